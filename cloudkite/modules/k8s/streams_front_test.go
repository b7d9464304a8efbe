package k8s

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/cri-streaming/pkg/streaming/portforward"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// A test kubelet front: the test cluster has no kubelet, so an HTTPS
// server stands in front of the real kube-apiserver. It reverse-proxies
// every request to it, except the log, exec and portforward subresources
// of the pods registered with it (and present in the API server), which it
// serves itself as a kubelet would:
//   - exec: cri-streaming's ServeExec (SPDY) running the argv as a real
//     local process in the pod's directory (its "container filesystem"),
//     so exit codes, stdin and tar are real;
//   - portforward: cri-streaming's ServePortForward (SPDY) dialing a real
//     local TCP listener per pod port;
//   - log: canned lines honouring container, previous, tailLines,
//     sinceSeconds and follow (lines flushed over time).
// WebSocket upgrades (exec's WebSocket executor, port-forward's SPDY over
// WebSocket tunnel) are refused with a 400 Status, as by a cluster that
// does not translate them, so the clients fall back to SPDY: the front
// counts those refusals. Unregistered or missing pods go to the real API
// server, so their errors (404 NotFound, 403) are its own.

type frontPod struct {
	ns, name   string
	root       string                // container filesystem (exec's working directory)
	containers []string              // first = default when the pod has one container
	logs       map[string][]frontLog // by container
	previous   map[string][]frontLog // by container
	ports      map[int32]string      // pod port → local address to dial
	// follow streaming: delay between lines, then hang until the client
	// goes away when hang is set.
	delay time.Duration
	hang  bool
}

type frontLog struct {
	age  time.Duration // how long ago the line was written
	text string        // as written (with its "\n" or not)
}

type kubeletFront struct {
	t      *testing.T
	srv    *httptest.Server
	api    *url.URL
	rt     http.RoundTripper // to the API server, the caller's credentials
	proxy  *httputil.ReverseProxy
	token  string
	config string // kubeconfig whose server is the front

	mu        sync.Mutex
	pods      map[string]*frontPod
	logQuery  []url.Values // every log request served, in order
	execs     []frontExec
	wsRefused int
	closed    map[string][]int // by pod: lines written before a follow client went away
}

type frontExec struct {
	pod, container string
	argv           []string
	stdin          bool
}

// newKubeletFront starts a front for c's API server and writes a
// kubeconfig for it (context kite-front, namespace c.ns, admin token).
func newKubeletFront(t *testing.T, c *cluster) *kubeletFront {
	t.Helper()
	raw, err := clientcmd.LoadFromFile(c.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	token := raw.AuthInfos[raw.Contexts["kite-testenv"].AuthInfo].Token
	api, err := url.Parse(c.admin.rest.Host)
	if err != nil {
		t.Fatal(err)
	}
	anon := rest.AnonymousClientConfig(c.admin.rest) // TLS only: callers' tokens pass through
	anon.NextProtos = []string{"http/1.1"}           // upgrades (exec of a missing pod) cannot go over HTTP/2
	rt, err := rest.TransportFor(anon)
	if err != nil {
		t.Fatal(err)
	}
	f := &kubeletFront{t: t, api: api, rt: rt, token: token, pods: map[string]*frontPod{}, closed: map[string][]int{}}
	f.proxy = &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(api); r.Out.Host = api.Host },
		Transport: rt,
		ErrorLog:  nil,
	}
	f.srv = httptest.NewTLSServer(f) // (client-go sends tokens over TLS only)
	t.Cleanup(f.srv.Close)

	f.config = filepath.Join(t.TempDir(), "front-kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: front
  cluster: {server: %q, certificate-authority-data: %q}
users:
- name: admin
  user: {token: %q}
contexts:
- name: kite-front
  context: {cluster: front, user: admin, namespace: %q}
current-context: kite-front
`, f.srv.URL, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})), token, c.ns)
	if err := os.WriteFile(f.config, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// addPod creates the pod in the API server and registers it with the
// front; its filesystem is a fresh directory.
func (f *kubeletFront) addPod(c *cluster, p *frontPod) *frontPod {
	f.t.Helper()
	if p.ns == "" {
		p.ns = c.ns
	}
	if len(p.containers) == 0 {
		p.containers = []string{"main"}
	}
	if p.root == "" {
		p.root = f.t.TempDir()
	}
	var containers []any
	for _, n := range p.containers {
		containers = append(containers, map[string]any{"name": n, "image": "busybox"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.admin.dyn.Resource(gvrPods).Namespace(p.ns).Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": p.name},
		"spec": map[string]any{"containers": containers}}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.pods[p.ns+"/"+p.name] = p
	f.mu.Unlock()
	return p
}

func (f *kubeletFront) lastLogQuery() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.logQuery) == 0 {
		return nil
	}
	return f.logQuery[len(f.logQuery)-1]
}

func (f *kubeletFront) lastExec() frontExec {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.execs) == 0 {
		return frontExec{}
	}
	return f.execs[len(f.execs)-1]
}

func (f *kubeletFront) refused() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.wsRefused
}

var podSubresource = regexp.MustCompile(`^/api/v1/namespaces/([^/]+)/pods/([^/]+)/(log|exec|portforward)$`)

func (f *kubeletFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := podSubresource.FindStringSubmatch(r.URL.Path)
	if m == nil {
		f.proxy.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	p := f.pods[m[1]+"/"+m[2]]
	f.mu.Unlock()
	if p == nil || !f.visible(r, m[1], m[2]) {
		f.proxy.ServeHTTP(w, r)
		return
	}
	switch m[3] {
	case "log":
		f.serveLog(w, r, p)
	case "exec":
		f.serveExec(w, r, p)
	case "portforward":
		f.servePortForward(w, r, p)
	}
}

// visible reports whether the caller can get the pod from the API server.
func (f *kubeletFront) visible(r *http.Request, ns, name string) bool {
	u := *f.api
	u.Path = "/api/v1/namespaces/" + ns + "/pods/" + name
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u.String(), nil)
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	resp, err := f.rt.RoundTrip(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// status writes a metav1.Status failure.
func frontStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg})
}

// container resolves the container parameter like the API server.
func (p *frontPod) container(w http.ResponseWriter, name string) (string, bool) {
	if name == "" {
		if len(p.containers) == 1 {
			return p.containers[0], true
		}
		frontStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest,
			fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", p.name, p.containers))
		return "", false
	}
	for _, c := range p.containers {
		if c == name {
			return name, true
		}
	}
	frontStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, fmt.Sprintf("container %s is not valid for pod %s", name, p.name))
	return "", false
}

func (f *kubeletFront) serveLog(w http.ResponseWriter, r *http.Request, p *frontPod) {
	q := r.URL.Query()
	f.mu.Lock()
	f.logQuery = append(f.logQuery, q)
	f.mu.Unlock()
	cont, ok := p.container(w, q.Get("container"))
	if !ok {
		return
	}
	lines := p.logs[cont]
	if q.Get("previous") == "true" {
		prev, ok := p.previous[cont]
		if !ok {
			frontStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest,
				fmt.Sprintf("previous terminated container %q in pod %q not found", cont, p.name))
			return
		}
		lines = prev
	}
	if s := q.Get("sinceSeconds"); s != "" {
		n, _ := strconv.Atoi(s)
		var kept []frontLog
		for _, l := range lines {
			if l.age <= time.Duration(n)*time.Second {
				kept = append(kept, l)
			}
		}
		lines = kept
	}
	if s := q.Get("tailLines"); s != "" {
		n, _ := strconv.Atoi(s)
		if n < len(lines) {
			lines = lines[len(lines)-n:]
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	if q.Get("follow") != "true" {
		for _, l := range lines {
			_, _ = io.WriteString(w, l.text)
		}
		return
	}
	fl := w.(http.Flusher)
	fl.Flush()
	for i, l := range lines {
		select {
		case <-r.Context().Done():
			f.mu.Lock()
			f.closed[p.name] = append(f.closed[p.name], i)
			f.mu.Unlock()
			return
		case <-time.After(p.delay):
		}
		_, _ = io.WriteString(w, l.text)
		fl.Flush()
	}
	if p.hang {
		<-r.Context().Done()
		f.mu.Lock()
		f.closed[p.name] = append(f.closed[p.name], len(lines))
		f.mu.Unlock()
	}
}

// refuseWebSocket answers a WebSocket upgrade with a 400 (the client then
// falls back to SPDY).
func (f *kubeletFront) refuseWebSocket(w http.ResponseWriter, r *http.Request) bool {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return false
	}
	f.mu.Lock()
	f.wsRefused++
	f.mu.Unlock()
	frontStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, "this test kubelet does not serve WebSocket streams")
	return true
}

func (f *kubeletFront) serveExec(w http.ResponseWriter, r *http.Request, p *frontPod) {
	if f.refuseWebSocket(w, r) {
		return
	}
	q := r.URL.Query()
	cont, ok := p.container(w, q.Get("container"))
	if !ok {
		return
	}
	argv := q["command"]
	opts := &remotecommand.Options{Stdin: q.Get("stdin") == "true", Stdout: q.Get("stdout") == "true",
		Stderr: q.Get("stderr") == "true", TTY: q.Get("tty") == "true"}
	f.mu.Lock()
	f.execs = append(f.execs, frontExec{pod: p.name, container: cont, argv: argv, stdin: opts.Stdin})
	f.mu.Unlock()
	remotecommand.ServeExec(w, r, podRuntime{p}, p.name, "", cont, argv, opts, time.Minute, 30*time.Second,
		remotecommand.SupportedStreamingProtocols)
}

func (f *kubeletFront) servePortForward(w http.ResponseWriter, r *http.Request, p *frontPod) {
	if f.refuseWebSocket(w, r) {
		return
	}
	portforward.ServePortForward(w, r, podRuntime{p}, p.name, "", &portforward.V4Options{}, time.Minute, 30*time.Second,
		portforward.SupportedProtocols)
}

// podRuntime runs a pod's processes and connections on this machine.
type podRuntime struct{ p *frontPod }

// ExecInContainer runs cmd in the pod's directory; a program found in
// <root>/.bin wins over $PATH (tests plant fakes there).
func (pr podRuntime) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader, out, errw io.WriteCloser,
	_ bool, _ <-chan remotecommand.TerminalSize, _ time.Duration) error {
	if len(cmd) == 0 {
		return errors.New("empty command")
	}
	prog := cmd[0]
	if !strings.Contains(prog, "/") {
		if fake := filepath.Join(pr.p.root, ".bin", prog); frontFileExists(fake) {
			prog = fake
		}
	}
	c := exec.CommandContext(ctx, prog, cmd[1:]...)
	c.Dir = pr.p.root
	c.Env = append(os.Environ(), "POD_ROOT="+pr.p.root)
	if in != nil {
		c.Stdin = in
	}
	if out != nil {
		c.Stdout = out
	}
	if errw != nil {
		c.Stderr = errw
	}
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &utilexec.ExitErrorWrapper{ExitError: ee}
	}
	return err
}

// PortForward connects stream to the local address standing for port.
func (pr podRuntime) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	addr, ok := pr.p.ports[port]
	if !ok {
		return fmt.Errorf("nothing listens on port %d in pod %s", port, pr.p.name)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(conn, stream)
		_ = conn.(*net.TCPConn).CloseWrite()
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(stream, conn)
		done <- struct{}{}
	}()
	for range 2 {
		select {
		case <-done:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func frontFileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// echoServer accepts connections on a local port and echoes each back
// upper-cased, until the test ends.
func frontEchoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				_, _ = c.Write([]byte(strings.ToUpper(string(b))))
			}()
		}
	}()
	return l.Addr().String()
}

// echoBuiltin is echo(port, msg): sends msg to 127.0.0.1:port, half-closes
// and returns the whole answer.
var echoBuiltin = starlark.NewBuiltin("echo", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var port int
	var msg string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "port", &port, "msg", &msg); err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		return nil, err
	}
	_ = c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil {
		return nil, err
	}
	return starlark.String(b), nil
})

// streamRuntime is a kite runtime with k8s and time whose default client
// goes through the front; globals: FKC (the front's kubeconfig), NS, echo
// and the extra ones given.
func (f *kubeletFront) runtime(t *testing.T, c *cluster, cfg *libkite.Config, extra map[string]any) *libkite.Runtime {
	t.Helper()
	t.Setenv("KUBECONFIG", f.config)
	conf := libkite.Config{}
	if cfg != nil {
		conf = *cfg
	}
	conf.Globals = map[string]any{"FKC": f.config, "NS": c.ns, "echo": echoBuiltin}
	for k, v := range extra {
		conf.Globals[k] = v
	}
	rt, _ := kitetest.New(t, &conf, New(), kitetime.New())
	return rt
}
