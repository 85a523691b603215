package simruntime

import "math/bits"

// queue is the Sim's priority queue of items by (at, seq): a radix heap. It relies on time
// only moving on: every item's at is at least that of the last item taken (last), so an item
// goes to the bucket of the highest bit in which its at differs from last. Pushing appends to a
// bucket; taking the least item takes bucket 0 (at == last) in seq order and, when it is
// empty, spreads the lowest other bucket over the buckets below it, around its least item. An
// item moves a few times at most, always by appending to a slice the CPU has at hand, where a
// binary heap of a million ticks misses the cache on every level of every pop.
//
// Items of the same at come out in the order they were pushed, which is seq order: that is the
// Sim's tie-break, and pushes have increasing seqs.
type queue struct {
	last int64      // the at of the last item taken
	b    [65][]item // b[0]: at == last, in seq order from head; b[i]: at^last has bit i-1 highest
	head int        // of b[0]
	n    int
	// minB is the bucket above 0 whose least item is b[minB][minI], 0 when not known.
	minB, minI int
}

func before(a, b *item) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *queue) bucket(at int64) int { return bits.Len64(uint64(at ^ q.last)) }

// push adds it; its at must not be before the last item taken, nor its seq below any other's
// of the same at.
func (q *queue) push(it item) {
	if it.at < q.last {
		it.at = q.last // cannot happen (time only moves on); keep the order sound if it did
	}
	i := q.bucket(it.at)
	q.b[i] = append(q.b[i], it)
	q.n++
	switch {
	case i == 0, q.minB == 0:
	case i < q.minB:
		q.minB, q.minI = i, len(q.b[i])-1
	case i == q.minB && before(&it, &q.b[i][q.minI]):
		q.minI = len(q.b[i]) - 1
	}
}

// lowest is the bucket above 0 that holds the least item and that item's index; 0 when all are
// empty.
func (q *queue) lowest() (int, int) {
	if q.minB != 0 {
		return q.minB, q.minI
	}
	for i := 1; i < len(q.b); i++ {
		if len(q.b[i]) == 0 {
			continue
		}
		m := 0
		for j := 1; j < len(q.b[i]); j++ {
			if before(&q.b[i][j], &q.b[i][m]) {
				m = j
			}
		}
		q.minB, q.minI = i, m
		return i, m
	}
	return 0, 0
}

// peek is the least item; false when the queue is empty.
func (q *queue) peek() (item, bool) {
	if q.head < len(q.b[0]) {
		return q.b[0][q.head], true
	}
	if i, m := q.lowest(); i != 0 {
		return q.b[i][m], true
	}
	return item{}, false
}

// pop takes the least item; the queue must not be empty.
func (q *queue) pop() item {
	if q.head == len(q.b[0]) {
		q.spread()
	}
	it := q.b[0][q.head]
	q.head++
	if q.head == len(q.b[0]) {
		q.b[0], q.head = q.b[0][:0], 0
	}
	q.n--
	return it
}

// spread moves the lowest bucket above 0 down around its least item, which becomes last.
func (q *queue) spread() {
	i, m := q.lowest()
	q.last = q.b[i][m].at
	src := q.b[i]
	q.b[i] = src[:0]
	if cap(src) > maxKeptCap {
		q.b[i] = nil // a big bucket's array goes: the buckets below grow their own as needed
	}
	q.minB = 0
	// Bucket 0 comes out in seq order without a sort: every item is always in the bucket of its
	// at (the buckets above i keep theirs for the new last), so the items of one at share a
	// bucket, in the order they were pushed, and spreading keeps that order.
	for _, it := range src {
		j := q.bucket(it.at)
		q.b[j] = append(q.b[j], it)
	}
}

// maxKeptCap is the largest array an emptied bucket keeps for reuse. Items move down through
// the buckets, so a bucket that was big once is rarely big again: keeping every array at its
// peak would hold several times the items the queue has.
const maxKeptCap = 1 << 16

// len is how many items the queue holds.
func (q *queue) len() int { return q.n }
