package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	kitejson "github.com/project-starkite/starkite/libkite/modules/json"
)

// runKey is the context key under which a run's context names the run:
// code running for one of its requests (handler threads, and threads
// those spawn with their context) is recognised by shutdown(), which then
// does not wait for the drain that waits for that very code.
type runKey struct{}

// servingFor reports the run whose request thread is running, if any.
func servingFor(thread *starlark.Thread) *run {
	r, _ := libkite.Context(thread).Value(runKey{}).(*run)
	return r
}

// run is one started period of a server: listener, net/http server, the
// Caller that runs Starlark on handler threads, and the frozen middleware.
type run struct {
	s               *Server
	ln              net.Listener
	srv             *http.Server
	ctx             context.Context // handler threads; cancelled once the drain is over
	cancel          context.CancelFunc
	caller          *libkite.Caller
	middleware      []starlark.Callable
	maxBody         int64
	shutdownTimeout time.Duration
	unwatch         func() bool // stops watching the starting thread's context

	once   sync.Once
	served chan struct{} // closed when Serve has returned
	done   chan struct{} // closed when fully stopped

	stopping atomic.Bool // stop() has begun: replies close their connection

	mu      sync.Mutex
	closing bool           // no new handler calls
	active  sync.WaitGroup // handler calls in progress
}

func (r *run) serve(useTLS bool) {
	if useTLS {
		_ = r.srv.ServeTLS(r.ln, "", "")
	} else {
		_ = r.srv.Serve(r.ln)
	}
	close(r.served)
	r.stop(false) // Serve only returns once stopping (or on a fatal accept error)
}

// stop marks the server stopped, closes the listener (the port is free
// when stop returns) and drains in the background: a graceful Shutdown
// bounded by shutdown_timeout, then a forced close that also cancels the
// handler threads still running. With wait set it returns after the drain.
func (r *run) stop(wait bool) {
	r.once.Do(func() {
		r.stopping.Store(true)
		r.s.mu.Lock()
		if r.s.cur == r {
			r.s.cur = nil
		}
		unwatch := r.unwatch
		r.s.mu.Unlock()
		if unwatch != nil {
			unwatch()
		}
		_ = r.ln.Close()
		go r.drain()
	})
	if wait {
		<-r.done
	}
}

func (r *run) drain() {
	defer close(r.done)
	ctx, cancel := context.WithTimeout(context.Background(), r.shutdownTimeout)
	err := r.srv.Shutdown(ctx)
	cancel()
	if errors.Is(err, context.DeadlineExceeded) {
		_ = r.srv.Close()
	}
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	r.cancel()
	idle := make(chan struct{})
	go func() { r.active.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(max(r.shutdownTimeout, time.Second)):
		// a handler blocked in a builtin that ignores cancellation; it
		// ends on its own, the server is stopped regardless
	}
	<-r.served
}

// enter registers a handler call; false once the run is closing.
func (r *run) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return false
	}
	r.active.Add(1)
	return true
}

// mux builds the run's router; invalid and conflicting patterns are errors
// (net/http panics on them).
func (r *run) mux(routes []route) (*http.ServeMux, error) {
	mux := http.NewServeMux()
	seen := make(map[string]bool, len(routes))
	for _, rt := range routes {
		if seen[rt.pattern] {
			return nil, fmt.Errorf("http.server: invalid route %q: duplicate pattern", rt.pattern)
		}
		seen[rt.pattern] = true
		if err := register(mux, rt.pattern, r.handler(rt.handler, wildcards(rt.pattern))); err != nil {
			return nil, fmt.Errorf("http.server: invalid route %q: %s", rt.pattern, err)
		}
	}
	return mux, nil
}

var registeredAt = regexp.MustCompile(` \(registered at [^)]*\)`)

// register adds a route, turning net/http's registration panic into an
// error without the Go source locations it names.
func register(mux *http.ServeMux, pattern string, h http.Handler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			msg := registeredAt.ReplaceAllString(fmt.Sprint(p), "")
			msg = strings.TrimPrefix(msg, fmt.Sprintf("parsing %q: ", pattern))
			msg = strings.TrimPrefix(msg, fmt.Sprintf("pattern %q ", pattern))
			err = errors.New(strings.ReplaceAll(msg, "\n", " "))
		}
	}()
	mux.Handle(pattern, h)
	return nil
}

// wildcards lists the names of a pattern's {name} and {name...} segments.
func wildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		if n := strings.TrimSuffix(pattern[i+1:i+j], "..."); n != "" && n != "$" {
			names = append(names, n)
		}
		pattern = pattern[i+j+1:]
	}
}

const textPlain = "text/plain; charset=utf-8"

// handler serves one route: read the body (bounded), run middleware and
// handler on a handler thread, write what they returned.
func (r *run) handler(h starlark.Callable, names []string) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		if !r.enter() {
			w.Header().Set("Connection", "close")
			writeText(w, http.StatusServiceUnavailable, "server shutting down\n")
			return
		}
		defer r.active.Done()
		body, err := io.ReadAll(http.MaxBytesReader(w, hr.Body, r.maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeText(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds max_body_bytes (%d)\n", r.maxBody))
			} else {
				writeText(w, http.StatusBadRequest, "cannot read request body: "+err.Error()+"\n")
			}
			return
		}
		out := r.call(h, newRequest(hr, body, names))
		if r.stopping.Load() {
			// shutdown() ran during this request (perhaps in this very
			// handler): close the connection after the reply, so a client
			// reusing it does not find a server that has stopped listening
			w.Header().Set("Connection", "close")
		}
		respond(w, out)
	}
}

// outcome is what running the middleware chain and handler gave.
type outcome struct {
	ran      bool
	value    starlark.Value
	err      error
	panicked bool
	panic    any
}

// call runs the chain on a fresh handler thread of the runtime (its
// permissions, print routing, dry-run flag; cancelled with the run).
func (r *run) call(h starlark.Callable, req *Request) outcome {
	var out outcome
	step := starlark.NewBuiltin("http.handler", func(t *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (res starlark.Value, err error) {
		out.ran = true
		defer func() {
			if p := recover(); p != nil {
				out.panicked, out.panic = true, p
				res, err = starlark.None, nil
			}
		}()
		out.value, out.err = chain(t, r.middleware, h, req)
		return starlark.None, nil
	})
	if _, err := r.caller.Call(step, nil, nil); err != nil && !out.ran {
		out.err = err // not started: the runtime closed or the run is over
	}
	return out
}

// chain calls mw[0](req, next) or, without middleware, h(req).
func chain(t *starlark.Thread, mw []starlark.Callable, h starlark.Callable, req starlark.Value) (starlark.Value, error) {
	if len(mw) == 0 {
		return starlark.Call(t, h, starlark.Tuple{req}, nil)
	}
	return starlark.Call(t, mw[0], starlark.Tuple{req, &nextStep{rest: mw[1:], handler: h}}, nil)
}

// nextStep is the `next` a middleware receives: calling it with the
// request runs the rest of the chain and returns what it returned.
type nextStep struct {
	rest    []starlark.Callable
	handler starlark.Callable
}

var _ starlark.Callable = (*nextStep)(nil)

func (n *nextStep) Name() string { return "next" }
func (n *nextStep) String() string {
	if len(n.rest) > 0 {
		return "<middleware>"
	}
	return "<handler>"
}
func (n *nextStep) Type() string          { return "middleware_step" }
func (n *nextStep) Freeze()               {}
func (n *nextStep) Truth() starlark.Bool  { return true }
func (n *nextStep) Hash() (uint32, error) { return 0, unhashable("middleware_step") }

func (n *nextStep) CallInternal(t *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("next: unexpected keyword argument %s", kwargs[0][0])
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("next: expected 1 argument (request), got %d", len(args))
	}
	return chain(t, n.rest, n.handler, args[0])
}

// respond writes the outcome as spec/http.md's return-value table says.
func respond(w http.ResponseWriter, out outcome) {
	switch {
	case out.panicked:
		writeText(w, http.StatusInternalServerError, fmt.Sprintf("handler panic: %v\n", out.panic))
		return
	case !out.ran:
		writeText(w, http.StatusServiceUnavailable, "server shutting down\n")
		return
	case out.err != nil:
		writeText(w, http.StatusInternalServerError, "handler error: "+out.err.Error()+"\n")
		return
	}
	switch v := out.value.(type) {
	case starlark.NoneType:
		w.WriteHeader(http.StatusNoContent)
	case starlark.String:
		writeText(w, http.StatusOK, string(v))
	case *starlark.Dict:
		if body, found, _ := v.Get(starlark.String("body")); found {
			respondExplicit(w, v, body)
			return
		}
		text, err := kitejson.Encode(v, "", "")
		if err != nil {
			writeText(w, http.StatusInternalServerError, "response error: "+err.Error()+"\n")
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, text)
	default:
		writeText(w, http.StatusInternalServerError,
			"response error: handler must return dict, string, or None; got "+out.value.Type()+"\n")
	}
}

// respondExplicit writes a {"status", "headers", "body"} dict.
func respondExplicit(w http.ResponseWriter, d *starlark.Dict, body starlark.Value) {
	status := http.StatusOK
	if v, found, _ := d.Get(starlark.String("status")); found {
		if i, ok := v.(starlark.Int); ok {
			if n, ok := i.Int64(); ok && n >= 100 && n <= 999 {
				status = int(n)
			} else {
				writeText(w, http.StatusInternalServerError, "response error: invalid status code "+i.String()+"\n")
				return
			}
		}
	}
	if v, found, _ := d.Get(starlark.String("headers")); found {
		if hd, ok := v.(*starlark.Dict); ok {
			for _, kv := range stringPairs(hd) {
				w.Header().Set(kv[0], kv[1])
			}
		}
	}
	// bytes are sent raw (binary downloads), typed application/octet-stream
	// unless the handler named a type; anything else but str is its str()
	ctype, text := textPlain, ""
	switch b := body.(type) {
	case starlark.String:
		text = string(b)
	case starlark.Bytes:
		ctype, text = "application/octet-stream", string(b)
	default:
		text = body.String()
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", ctype)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

func writeText(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", textPlain)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
