//go:build linux

package fhirhttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullListener returns a loopback address whose accept queue is full: Linux drops further SYNs,
// so a connect hangs as against a black-holed host.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Skipf("no raw socket: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("bind: %v", err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Skipf("listen: %v", err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Skipf("cannot fill the accept queue: %v", err)
	}
	t.Cleanup(func() { filler.Close() })
	if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
		c.Close()
		t.Skip("this kernel accepts beyond the backlog; cannot simulate a black hole")
	}
	return addr
}

// TestConnectTimeout: a target that never completes the TCP handshake ends at ConnectTimeout
// (not the whole Timeout), is not retried, and trips the Breaker naming that limit.
func TestConnectTimeout(t *testing.T) {
	addr := fullListener(t)
	rec := &recorded{}
	b := &Breaker{Threshold: 2}
	c := newClient(t, "http://"+addr+"/fhir", Options{ConnectTimeout: 200 * time.Millisecond, Timeout: time.Minute, Recorder: rec.rec, Breaker: b})
	for i := 0; i < 2; i++ {
		_, err := c.Get(context.Background(), "metadata")
		if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "(ConnectTimeout)") || !strings.Contains(err.Error(), addr) {
			t.Fatalf("want a connect timeout naming the limit and URL, got %v", err)
		}
	}
	if len(rec.ex) != 2 {
		t.Errorf("%d attempts recorded for 2 requests; a timeout is not retried", len(rec.ex))
	}
	_, err := c.Get(context.Background(), "metadata")
	if !errors.Is(err, ErrTargetDown) || !strings.Contains(err.Error(), "no connection within 200ms (ConnectTimeout)") {
		t.Errorf("want the breaker to name the connect limit, got %v", err)
	}
}
