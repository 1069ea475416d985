package httpapi_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kakeru-dialer/kakeru/config"
	"github.com/kakeru-dialer/kakeru/httpapi"
	"github.com/kakeru-dialer/kakeru/store/storetest"
)

// Issue 13 row 3: a request without a valid token is answered 401 at once, whatever body it
// announces and however slowly it sends it, and the connection is closed rather than kept
// waiting for that body.
func TestUnauthenticatedBodyNotAwaited(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Config: staticConfig{cfg}}).Handler())
	t.Cleanup(srv.Close)
	for _, auth := range []string{"", "Authorization: Bearer not-a-token\r\n"} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Write([]byte("POST /api/v1/batches HTTP/1.1\r\nHost: x\r\n" + auth +
			"Content-Type: application/json\r\nContent-Length: 200000\r\n\r\n{"))
		if err != nil {
			t.Fatal(err)
		}
		// The body never comes: the answer must not wait for it.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%q: no answer while the body is pending: %v", auth, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Errorf("%q: %d, close %v; want 401 and close", auth, resp.StatusCode, resp.Close)
		}
	}
}

// Issue 13 row 3: an authenticated client that trickles its body is cut at the body timeout
// instead of holding the connection and a handler for as long as it likes.
func TestTrickledBodyTimesOut(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Config: staticConfig{cfg}, BodyTimeout: 300 * time.Millisecond,
		Batches: storetest.New(t)}).Handler())
	t.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("POST /api/v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + adminToken +
		"\r\nContent-Type: application/json\r\nContent-Length: 200000\r\n\r\n{")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !resp.Close {
			t.Errorf("%d, close %v; want a 4xx and the connection closed", resp.StatusCode, resp.Close)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server still waits for the body after its timeout")
	}
}
