package etcdstore

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/podlife/podlife/lifecycle"
)

// Watch implements lifecycle.Store with an etcd watch on the prefix from fromRevision.
//
// A fromRevision <= 0 watches from the next write on: Watch first reads the cluster's revision
// r and watches from r+1, because an etcd watch is set up asynchronously and a write right after
// Watch returns could otherwise come before it (memstore's watch is registered at once). That
// read is also where an unreachable cluster shows, as a response with an *UnavailableError.
// From a given revision there is no read first: while the cluster cannot be reached the watch
// waits, and goes on from where it was once the cluster answers again.
//
// The client resumes a broken stream on its own (on another member if need be) from the last
// revision it delivered, so a member going away costs no event and repeats none. The watch asks
// for a leader (clientv3.WithRequireLeader): a member cut off from the others ends it with an
// *UnavailableError instead of going silent, and the caller lists again. A compacted revision
// ends it with a *lifecycle.CompactedError whose Compacted is etcd's compact revision.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) <-chan lifecycle.WatchResponse {
	if err := ctx.Err(); err != nil {
		return failed(fmt.Errorf("etcdstore: watch %q: %w", prefix, err))
	}
	if fromRevision <= 0 {
		rctx, cancel := s.request(ctx)
		resp, err := s.cli.Get(rctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err != nil {
			return failed(s.wrap(ctx, "watch", prefix, err))
		}
		fromRevision = resp.Header.Revision + 1
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	wch := s.cli.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(fromRevision))
	out := make(chan lifecycle.WatchResponse)
	go s.forward(ctx, cancel, wch, out, prefix, fromRevision)
	return out
}

// forward turns the client's responses into lifecycle's until the watch ends. It owns cancel,
// the etcd watch's context, so the server side ends with it.
func (s *Store) forward(ctx context.Context, cancel context.CancelFunc, wch clientv3.WatchChan,
	out chan<- lifecycle.WatchResponse, prefix string, next int64) {
	defer close(out)
	defer cancel()
	send := func(resp lifecycle.WatchResponse) bool {
		select {
		case out <- resp:
			return resp.Err == nil
		case <-ctx.Done():
			return false
		}
	}
	for {
		var wr clientv3.WatchResponse
		var ok bool
		select {
		case wr, ok = <-wch:
		case <-ctx.Done():
			return
		}
		switch {
		case !ok:
			if ctx.Err() == nil { // the client was closed
				send(lifecycle.WatchResponse{Err: &UnavailableError{Op: "watch", Key: prefix,
					Endpoints: s.cli.Endpoints(), Err: errors.New("watch channel closed")}})
			}
			return
		case wr.CompactRevision != 0:
			send(lifecycle.WatchResponse{Err: fmt.Errorf("etcdstore: watch %q: %w", prefix,
				&lifecycle.CompactedError{Requested: next, Compacted: wr.CompactRevision})})
			return
		case wr.Err() != nil:
			s.log.Debug("watch ended", zap.String("prefix", prefix), zap.Error(wr.Err()))
			send(lifecycle.WatchResponse{Err: s.wrap(ctx, "watch", prefix, wr.Err())})
			return
		case len(wr.Events) == 0: // created, progress notification
			continue
		}
		evs := make([]lifecycle.WatchEvent, len(wr.Events))
		for i, ev := range wr.Events {
			kv := lifecycle.KV{Key: string(ev.Kv.Key), Revision: ev.Kv.ModRevision}
			if ev.Type == mvccpb.Event_DELETE {
				evs[i] = lifecycle.WatchEvent{Type: lifecycle.WatchDelete, KV: kv}
				continue
			}
			kv.Value = value(ev.Kv.Value)
			evs[i] = lifecycle.WatchEvent{Type: lifecycle.WatchPut, KV: kv}
		}
		next = evs[len(evs)-1].KV.Revision + 1
		if !send(lifecycle.WatchResponse{Events: evs}) {
			return
		}
	}
}

// failed is a watch that is over before it starts: one response with err, then closed.
func failed(err error) <-chan lifecycle.WatchResponse {
	ch := make(chan lifecycle.WatchResponse, 1)
	ch <- lifecycle.WatchResponse{Err: err}
	close(ch)
	return ch
}
