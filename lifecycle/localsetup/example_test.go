package localsetup_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podlife/podlife"
	"github.com/podlife/podlife/lifecycle"
	"github.com/podlife/podlife/lifecycle/localsetup"
)

func ExampleSetup() {
	base, _ := os.MkdirTemp("", "localsetup-example")
	defer os.RemoveAll(base)
	secrets := filepath.Join(base, "secrets")
	_ = os.MkdirAll(filepath.Join(secrets, "db"), 0o755)
	_ = os.WriteFile(filepath.Join(secrets, "db", "password"), []byte("s3cr3t"), 0o600)

	s, err := localsetup.New(localsetup.Config{Root: filepath.Join(base, "kubelet"), Secrets: secrets})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	pod := lifecycle.PodRef{Namespace: "default", Name: "web", UID: "7d1f"}
	spec := &podlife.PodSpec{
		Containers: []podlife.Container{{Name: "app", Image: "nginx"}},
		Volumes: []podlife.Volume{
			{Name: "scratch", Source: podlife.VolumeEmptyDir},
			{Name: "creds", Source: podlife.VolumeSecret, Ref: "db"},
		},
	}
	if err := s.Setup(ctx, pod, spec); err != nil {
		fmt.Println(err)
		return
	}
	rel, _ := filepath.Rel(base, s.VolumePath(pod, "creds"))
	password, _ := os.ReadFile(filepath.Join(s.VolumePath(pod, "creds"), "password"))
	fmt.Println(rel, "password =", string(password))

	spec.Volumes = append(spec.Volumes, podlife.Volume{Name: "tls", Source: podlife.VolumeSecret, Ref: "web-tls"})
	err = s.Setup(ctx, pod, spec)
	fmt.Println(err)
	fmt.Println(errors.Is(err, localsetup.ErrMissingSource))

	_ = s.Teardown(ctx, pod)
	_, err = os.Stat(s.PodDir(pod))
	fmt.Println("pod directory removed:", errors.Is(err, os.ErrNotExist))
	// Output:
	// kubelet/pods/default_web_7d1f/volumes/creds password = s3cr3t
	// MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found
	// true
	// pod directory removed: true
}
