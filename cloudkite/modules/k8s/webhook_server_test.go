package k8s

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	jsonpatchapply "gopkg.in/evanphx/json-patch.v4"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// Tests of k8s.webhook over real HTTPS: the server is started by a script
// (rt.Execute in a goroutine) on an ephemeral port, learnt through the
// webhookStarted hook, and fed hand-built AdmissionReviews.

// webhookTLS is a throwaway CA and a serving certificate it signed for
// 127.0.0.1, ::1 and localhost, written as PEM files.
type webhookTLS struct {
	certFile, keyFile string
	caPEM             []byte
	pool              *x509.CertPool
}

func newWebhookTLS(t testing.TB) *webhookTLS {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kite-webhook-test-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "kite-webhook"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	w := &webhookTLS{
		certFile: filepath.Join(dir, "tls.crt"),
		keyFile:  filepath.Join(dir, "tls.key"),
		caPEM:    pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:     x509.NewCertPool(),
	}
	w.pool.AddCert(caCert)
	if err := os.WriteFile(w.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(w.keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return w
}

// globals are the Starlark globals naming the TLS files.
func (w *webhookTLS) globals() map[string]any {
	return map[string]any{"CERT": w.certFile, "KEY": w.keyFile}
}

// client trusts only the test CA.
func (w *webhookTLS) client() *http.Client {
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.pool, MinVersion: tls.VersionTLS12}},
	}
}

// webhookStart is what the webhookStarted hook reported for a runtime.
type webhookStart struct {
	port int
	line string
}

// webhookStarts routes webhookStarted reports to the test that started
// the runtime's server (*libkite.Runtime → chan webhookStart).
var webhookStarts sync.Map

func init() {
	webhookStarted = func(thread *starlark.Thread, port int, line string) {
		if ch, ok := webhookStarts.Load(libkite.GetRuntime(thread)); ok {
			ch.(chan webhookStart) <- webhookStart{port, line}
		}
	}
}

// servingWebhook is a script serving k8s.webhook in the background.
type servingWebhook struct {
	t      *testing.T
	rt     *libkite.Runtime
	port   int
	line   string
	tls    *webhookTLS
	http   *http.Client
	cancel context.CancelFunc
	done   chan error
}

// startWebhook runs src on rt in a goroutine and returns once the
// webhook it starts is listening. The script is cancelled and awaited at
// cleanup (if stop was not called).
func startWebhook(t *testing.T, rt *libkite.Runtime, w *webhookTLS, src string) *servingWebhook {
	t.Helper()
	started := make(chan webhookStart, 1)
	webhookStarts.Store(rt, started)
	t.Cleanup(func() { webhookStarts.Delete(rt) })
	ctx, cancel := context.WithCancel(context.Background())
	s := &servingWebhook{t: t, rt: rt, tls: w, http: w.client(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- rt.Execute(ctx, src) }()
	t.Cleanup(func() { _ = s.stop() })
	select {
	case st := <-started:
		s.port, s.line = st.port, st.line
	case err := <-s.done:
		s.done <- err
		t.Fatalf("script ended before the webhook was listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("webhook did not start listening")
	}
	return s
}

// stop cancels the script and returns what Execute returned.
func (s *servingWebhook) stop() error {
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // idempotent
		return err
	case <-time.After(15 * time.Second):
		s.t.Error("the webhook script did not end after cancellation")
		return nil
	}
}

func (s *servingWebhook) url(path string) string {
	return "https://127.0.0.1:" + strconv.Itoa(s.port) + path
}

// do sends a request and returns status, Content-Type and body.
func (s *servingWebhook) do(method, path string, body []byte) (int, http.Header, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url(path), bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// reviewResponse is the decoded AdmissionReview reply.
type reviewResponse struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Response   struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Message string `json:"message"`
		} `json:"status"`
		PatchType string `json:"patchType"`
		Patch     []byte `json:"patch"` // base64 decoded by encoding/json
	} `json:"response"`
}

func (r reviewResponse) message() string {
	if r.Response.Status == nil {
		return ""
	}
	return r.Response.Status.Message
}

// admissionReviewJSON builds an AdmissionReview v1 request.
func admissionReviewJSON(uid, op string, object, oldObject map[string]any) []byte {
	req := map[string]any{
		"uid":       uid,
		"kind":      map[string]any{"group": "", "version": "v1", "kind": "ConfigMap"},
		"resource":  map[string]any{"group": "", "version": "v1", "resource": "configmaps"},
		"operation": op,
		"object":    object,
		"oldObject": oldObject,
	}
	b, err := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req})
	if err != nil {
		panic(err)
	}
	return b
}

// review POSTs an AdmissionReview for obj to path and decodes the reply,
// checking the envelope (200, JSON, apiVersion/kind, uid echoed).
func (s *servingWebhook) review(path, op string, object, oldObject map[string]any) reviewResponse {
	s.t.Helper()
	uid := fmt.Sprintf("uid-%d", time.Now().UnixNano())
	code, h, body := s.do(http.MethodPost, path, admissionReviewJSON(uid, op, object, oldObject))
	if code != http.StatusOK {
		s.t.Fatalf("POST %s: status %d: %s", path, code, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/json" {
		s.t.Fatalf("Content-Type = %q, want application/json", ct)
	}
	var r reviewResponse
	if err := json.Unmarshal(body, &r); err != nil {
		s.t.Fatalf("decoding %s: %v", body, err)
	}
	if r.APIVersion != "admission.k8s.io/v1" || r.Kind != "AdmissionReview" {
		s.t.Fatalf("envelope = %s/%s, want admission.k8s.io/v1/AdmissionReview", r.APIVersion, r.Kind)
	}
	if r.Response.UID != uid {
		s.t.Fatalf("response uid = %q, want %q", r.Response.UID, uid)
	}
	return r
}

// configMap is a ConfigMap object with the given labels and data.
func configMap(name string, labels map[string]any, data map[string]any) map[string]any {
	md := map[string]any{"name": name, "namespace": "team-a"}
	if labels != nil {
		md["labels"] = labels
	}
	o := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}
	if data != nil {
		o["data"] = data
	}
	return o
}

// webhookRuntime is a runtime with k8s (over fakes) and time, the TLS
// file globals set, and its print output captured.
func webhookRuntime(t *testing.T, w *webhookTLS, cfg *libkite.Config) (*libkite.Runtime, *kitetest.Output) {
	t.Helper()
	conf := libkite.Config{}
	if cfg != nil {
		conf = *cfg
	}
	conf.Globals = w.globals()
	f := newFake(t, obj("v1", "ConfigMap", "team-a", "cm1", map[string]any{"data": map[string]any{"k": "v"}}))
	return kitetest.New(t, &conf, NewWithClientFactory(f.factory), kitetime.New())
}

func TestWebhookValidate(t *testing.T) {
	w := newWebhookTLS(t)
	rt, out := webhookRuntime(t, w, nil)
	s := startWebhook(t, rt, w, `
state = {"calls": 0, "busy": False}

def validate(obj):
    if state["busy"]:
        fail("handler calls overlap")
    state["busy"] = True
    time.sleep("20ms")
    state["calls"] += 1
    state["busy"] = False
    mode = obj.metadata.labels.get("mode")
    print("validate", obj.metadata.name, mode)
    obj.metadata.labels["touched"] = "yes"   # the handler's own copy
    if mode == "allow":
        return {"allowed": True}
    if mode == "allow-msg":
        return {"allowed": True, "message": "fine by me"}
    if mode == "deny":
        return {"allowed": False, "message": "no " + obj.metadata.name}
    if mode == "deny-bare":
        return {"allowed": False}
    if mode == "fail":
        fail("boom in " + obj.metadata.name)
    if mode == "none":
        return None
    if mode == "list":
        return [True]
    if mode == "missing":
        return {"message": "forgot allowed"}
    if mode == "string":
        return {"allowed": "yes"}
    if mode == "attrdict":
        return obj.spec
    if mode == "count":
        return {"allowed": True, "message": "calls=%d" % state["calls"]}
    return {"allowed": False, "message": "unknown mode %r" % mode}

k8s.webhook("/validate", validate=validate, port=0, tls_cert=CERT, tls_key=KEY)
`)
	if s.port == 0 {
		t.Fatal("port 0 was reported instead of the bound port")
	}
	if want := fmt.Sprintf("k8s.webhook: serving /validate on :%d (TLS)\n", s.port); s.line != want {
		t.Fatalf("startup line = %q, want %q", s.line, want)
	}

	cases := []struct {
		mode    string
		spec    map[string]any
		allowed bool
		msg     string
	}{
		{mode: "allow", allowed: true},
		{mode: "allow-msg", allowed: true, msg: "fine by me"},
		{mode: "deny", msg: "no cm-deny"},
		{mode: "deny-bare"},
		{mode: "fail", msg: "boom in cm-fail"},
		{mode: "none", msg: `k8s.webhook: validate must return a dict like {"allowed": bool, "message": str}, got NoneType`},
		{mode: "list", msg: `k8s.webhook: validate must return a dict like {"allowed": bool, "message": str}, got list`},
		{mode: "missing", msg: `k8s.webhook: validate result has no "allowed" key`},
		{mode: "string", msg: `k8s.webhook: validate result "allowed" must be a bool, got string`},
		{mode: "attrdict", spec: map[string]any{"allowed": true, "message": "from spec"}, allowed: true, msg: "from spec"},
		{mode: "attrdict", spec: map[string]any{"allowed": false}, allowed: false},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			o := configMap("cm-"+c.mode, map[string]any{"mode": c.mode}, nil)
			if c.spec != nil {
				o["spec"] = c.spec
			}
			r := s.review("/validate", "CREATE", o, nil)
			if r.Response.Allowed != c.allowed || r.message() != c.msg {
				t.Fatalf("allowed=%v message=%q, want allowed=%v message=%q", r.Response.Allowed, r.message(), c.allowed, c.msg)
			}
			if c.msg == "" && r.Response.Status != nil {
				t.Fatalf("status = %+v, want none", r.Response.Status)
			}
			if r.Response.Patch != nil || r.Response.PatchType != "" {
				t.Fatalf("validate-only webhook returned a patch %q (%s)", r.Response.Patch, r.Response.PatchType)
			}
		})
	}

	// Concurrent requests: handler calls are serialised (the handler
	// fails on overlap, and -race would flag the shared dict).
	before := s.review("/validate", "CREATE", configMap("c", map[string]any{"mode": "count"}, nil), nil).message()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uid := fmt.Sprintf("conc-%d", i)
			req, _ := http.NewRequest(http.MethodPost, s.url("/validate"),
				bytes.NewReader(admissionReviewJSON(uid, "CREATE", configMap("p", map[string]any{"mode": "allow"}, nil), nil)))
			resp, err := s.http.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var r reviewResponse
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || !r.Response.Allowed || r.Response.UID != uid {
				errs <- fmt.Sprintf("%s: status %d, allowed=%v, message %q, uid %q (%v)", uid, resp.StatusCode, r.Response.Allowed, r.message(), r.Response.UID, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	after := s.review("/validate", "CREATE", configMap("c", map[string]any{"mode": "count"}, nil), nil).message()
	var n1, n2 int
	fmt.Sscanf(before, "calls=%d", &n1)
	fmt.Sscanf(after, "calls=%d", &n2)
	if n2-n1 != 9 {
		t.Fatalf("calls went from %q to %q, want 9 more", before, after)
	}

	// print from handler threads reaches the runtime's print hook
	if got := out.String(); !strings.Contains(got, "validate cm-deny deny") {
		t.Fatalf("handler print output missing; printed:\n%s", got)
	}
	if err := s.stop(); err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute after cancel = %v, want context.Canceled", err)
	}
}

// applyPatch applies a JSON patch to obj and returns the result.
func applyPatch(t *testing.T, obj map[string]any, patch []byte) map[string]any {
	t.Helper()
	p, err := jsonpatchapply.DecodePatch(patch)
	if err != nil {
		t.Fatalf("decoding patch %s: %v", patch, err)
	}
	doc, _ := json.Marshal(obj)
	res, err := p.Apply(doc)
	if err != nil {
		t.Fatalf("applying patch %s: %v", patch, err)
	}
	var out map[string]any
	if err := json.Unmarshal(res, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// jsonRoundTrip normalises obj as the patched result is (numbers float64).
func jsonRoundTrip(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(obj)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWebhookMutate(t *testing.T) {
	w := newWebhookTLS(t)
	rt, _ := webhookRuntime(t, w, nil)
	s := startWebhook(t, rt, w, `
state = {"mutations": 0}

def validate(obj):
    mode = obj.metadata.annotations.get("mode")
    obj.metadata.labels["leaked"] = "from validate"   # must not reach the patch
    if mode == "deny":
        return {"allowed": False, "message": "denied before mutation"}
    if mode == "count":
        return {"allowed": True, "message": "mutations=%d" % state["mutations"]}
    return {"allowed": True}

def mutate(obj):
    state["mutations"] += 1
    mode = obj.metadata.annotations.get("mode")
    if mode == "none":
        return None
    if mode == "string":
        return "nope"
    if mode == "fail":
        fail("mutate broke on " + obj.metadata.name)
    if mode == "noop":
        return obj
    if mode == "dict":
        return {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": obj.metadata.name, "namespace": obj.metadata.namespace},
                "data": {"replaced": "yes", "n": 3}}
    labels = obj["metadata"]["labels"]
    labels["owner"] = labels["team"] if "team" in labels else "unknown"
    obj.data["added"] = "1"
    obj.data["pop"] = None
    obj.metadata.annotations["list"] = "x"
    obj.spec.list = [1, {"a": True}]
    return obj

k8s.webhook("/mutate", validate=validate, mutate=mutate, port=0, tls_cert=CERT, tls_key=KEY)
`)

	mk := func(name, mode string, labels map[string]any) map[string]any {
		if labels == nil {
			labels = map[string]any{}
		}
		o := configMap(name, labels, map[string]any{"pop": "gone", "keep": "k"})
		o["metadata"].(map[string]any)["annotations"] = map[string]any{"mode": mode}
		o["spec"] = map[string]any{"list": []any{1}, "n": 7}
		return o
	}

	t.Run("patch", func(t *testing.T) {
		for _, c := range []struct {
			labels map[string]any
			owner  string
		}{{map[string]any{"team": "payments"}, "payments"}, {map[string]any{"app": "web"}, "unknown"}} {
			in := mk("cm", "edit", c.labels)
			r := s.review("/mutate", "CREATE", in, nil)
			if !r.Response.Allowed || r.Response.PatchType != "JSONPatch" || len(r.Response.Patch) == 0 {
				t.Fatalf("response = %+v, want allowed with a JSONPatch", r.Response)
			}
			got := applyPatch(t, in, r.Response.Patch)
			want := jsonRoundTrip(t, mk("cm", "edit", c.labels))
			md := want["metadata"].(map[string]any)
			md["labels"].(map[string]any)["owner"] = c.owner
			md["annotations"].(map[string]any)["list"] = "x"
			want["data"] = map[string]any{"pop": nil, "keep": "k", "added": "1"}
			want["spec"] = map[string]any{"list": []any{float64(1), map[string]any{"a": true}}, "n": float64(7)}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("patched object =\n%v\nwant\n%v\npatch %s", got, want, r.Response.Patch)
			}
		}
	})
	t.Run("dict result", func(t *testing.T) {
		in := mk("cm-dict", "dict", nil)
		r := s.review("/mutate", "UPDATE", in, in)
		if !r.Response.Allowed || r.Response.PatchType != "JSONPatch" {
			t.Fatalf("response = %+v", r.Response)
		}
		got := applyPatch(t, in, r.Response.Patch)
		want := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cm-dict", "namespace": "team-a"},
			"data":     map[string]any{"replaced": "yes", "n": float64(3)}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("patched object =\n%v\nwant\n%v", got, want)
		}
	})
	t.Run("unchanged object has no patch", func(t *testing.T) {
		r := s.review("/mutate", "CREATE", mk("cm-noop", "noop", map[string]any{"a": "b"}), nil)
		if !r.Response.Allowed || r.Response.Patch != nil || r.Response.PatchType != "" || r.Response.Status != nil {
			t.Fatalf("response = %+v, want allowed with no patch (validate's edit must not leak)", r.Response)
		}
	})
	for _, c := range []struct{ mode, msg string }{
		{"none", "k8s.webhook: mutate must return the object (AttrDict or dict), got NoneType"},
		{"string", "k8s.webhook: mutate must return the object (AttrDict or dict), got string"},
		{"fail", "mutate broke on cm-fail"},
	} {
		t.Run("denied/"+c.mode, func(t *testing.T) {
			r := s.review("/mutate", "CREATE", mk("cm-"+c.mode, c.mode, map[string]any{}), nil)
			if r.Response.Allowed || r.message() != c.msg || r.Response.Patch != nil {
				t.Fatalf("allowed=%v message=%q patch=%q, want denied with %q", r.Response.Allowed, r.message(), r.Response.Patch, c.msg)
			}
		})
	}
	t.Run("validate denial skips mutate", func(t *testing.T) {
		before := s.review("/mutate", "CREATE", mk("c1", "count", map[string]any{}), nil).message()
		r := s.review("/mutate", "CREATE", mk("cm-deny", "deny", map[string]any{}), nil)
		if r.Response.Allowed || r.message() != "denied before mutation" || r.Response.Patch != nil {
			t.Fatalf("response = %+v", r.Response)
		}
		after := s.review("/mutate", "CREATE", mk("c2", "count", map[string]any{}), nil).message()
		var n1, n2 int
		fmt.Sscanf(before, "mutations=%d", &n1)
		fmt.Sscanf(after, "mutations=%d", &n2)
		if n2 != n1+1 { // only c1's mutation happened in between
			t.Fatalf("mutation count %q → %q: mutate ran for a denied request", before, after)
		}
	})
}

func TestWebhookHTTPErrors(t *testing.T) {
	w := newWebhookTLS(t)
	rt, _ := webhookRuntime(t, w, nil)
	s := startWebhook(t, rt, w, `
def validate(obj):
    return {"allowed": obj.metadata.name != "bad", "message": "saw " + obj.metadata.name}

k8s.webhook("/admit", validate=validate, port=0, tls_cert=CERT, tls_key=KEY)
`)
	expectStatus := func(t *testing.T, method, path string, body []byte, code int, sub string) {
		t.Helper()
		got, h, b := s.do(method, path, body)
		if got != code || !strings.Contains(string(b), sub) {
			t.Fatalf("%s %s: %d %q, want %d containing %q", method, path, got, b, code, sub)
		}
		if code == http.StatusMethodNotAllowed && h.Get("Allow") != http.MethodPost {
			t.Fatalf("Allow = %q", h.Get("Allow"))
		}
	}
	cm := configMap("x", nil, nil)
	t.Run("GET", func(t *testing.T) { expectStatus(t, http.MethodGet, "/admit", nil, 405, "method not allowed") })
	t.Run("PUT", func(t *testing.T) {
		expectStatus(t, http.MethodPut, "/admit", admissionReviewJSON("u", "CREATE", cm, nil), 405, "method not allowed")
	})
	t.Run("invalid JSON", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", []byte(`{"request": `), 400, "invalid AdmissionReview JSON")
	})
	t.Run("not an object", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", []byte(`[1]`), 400, "not a JSON object")
	})
	t.Run("no request", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", []byte(`{"apiVersion": "admission.k8s.io/v1"}`), 400, "missing request")
	})
	t.Run("missing uid", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", admissionReviewJSON("", "CREATE", cm, nil), 400, "missing request.uid")
	})
	t.Run("missing object", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", admissionReviewJSON("u", "CREATE", nil, cm), 400, "missing request.object")
	})
	t.Run("object not a map", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", []byte(`{"request": {"uid": "u", "object": "str"}}`), 400, "request.object is not a JSON object")
	})
	t.Run("DELETE without either object", func(t *testing.T) {
		expectStatus(t, http.MethodPost, "/admit", admissionReviewJSON("u", "DELETE", nil, nil), 400, "missing request.object")
	})
	t.Run("DELETE uses oldObject", func(t *testing.T) {
		r := s.review("/admit", "DELETE", nil, configMap("old-one", nil, nil))
		if !r.Response.Allowed || r.message() != "saw old-one" {
			t.Fatalf("response = %+v", r.Response)
		}
		r = s.review("/admit", "DELETE", nil, configMap("bad", nil, nil))
		if r.Response.Allowed || r.message() != "saw bad" {
			t.Fatalf("response = %+v", r.Response)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		big := admissionReviewJSON("u", "CREATE", configMap("big", nil, map[string]any{"blob": strings.Repeat("x", 11<<20)}), nil)
		expectStatus(t, http.MethodPost, "/admit", big, 413, "request body exceeds")
	})
	t.Run("other paths", func(t *testing.T) {
		body := admissionReviewJSON("u", "CREATE", cm, nil)
		expectStatus(t, http.MethodPost, "/admit/sub", body, 404, "not found")
		expectStatus(t, http.MethodPost, "/", body, 404, "not found")
		expectStatus(t, http.MethodPost, "/admitx", body, 404, "not found")
	})
	// the server still works after all that
	if r := s.review("/admit", "CREATE", cm, nil); !r.Response.Allowed || r.message() != "saw x" {
		t.Fatalf("response = %+v", r.Response)
	}
}

func TestWebhookSubPaths(t *testing.T) {
	w := newWebhookTLS(t)
	rt, _ := webhookRuntime(t, w, nil)
	s := startWebhook(t, rt, w, `
k8s.webhook("/hooks/", validate=lambda obj: {"allowed": True, "message": obj.metadata.name}, port=0, tls_cert=CERT, tls_key=KEY)
`)
	for _, p := range []string{"/hooks/", "/hooks/validate", "/hooks/a/b"} {
		if r := s.review(p, "CREATE", configMap("n", nil, nil), nil); !r.Response.Allowed || r.message() != "n" {
			t.Fatalf("%s: %+v", p, r.Response)
		}
	}
	for _, p := range []string{"/hooks", "/other", "/hooksx/a"} {
		if code, _, b := s.do(http.MethodPost, p, admissionReviewJSON("u", "CREATE", configMap("n", nil, nil), nil)); code != 404 {
			t.Fatalf("%s: %d %s, want 404", p, code, b)
		}
	}
}

func TestWebhookArgErrors(t *testing.T) {
	w := newWebhookTLS(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := newWebhookTLS(t) // a key that does not match w's certificate
	missing := filepath.Join(dir, "missing.crt")
	ok := `validate=lambda o: {"allowed": True}`
	cases := []struct{ name, call, err string }{
		{"no handlers", `k8s.webhook("/x", tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: at least one of validate or mutate is required"},
		{"None handlers", `k8s.webhook("/x", validate=None, mutate=None, tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: at least one of validate or mutate is required"},
		{"handler not callable", `k8s.webhook("/x", validate="v", tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: validate must be callable, got string"},
		{"mutate not callable", `k8s.webhook("/x", mutate=1, tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: mutate must be callable, got int"},
		{"missing path", `k8s.webhook(validate=lambda o: o, tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: missing required argument: path"},
		{"relative path", `k8s.webhook("admit", ` + ok + `, tls_cert=CERT, tls_key=KEY)`,
			`k8s.webhook: path must start with "/", got "admit"`},
		{"bad port", `k8s.webhook("/x", ` + ok + `, port=70000, tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: port must be between 0 and 65535, got 70000"},
		{"negative port", `k8s.webhook("/x", ` + ok + `, port=-1, tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: port must be between 0 and 65535, got -1"},
		{"no tls_cert", `k8s.webhook("/x", ` + ok + `, tls_key=KEY)`,
			"k8s.webhook: tls_cert is required (path of the PEM server certificate)"},
		{"no tls_key", `k8s.webhook("/x", ` + ok + `, tls_cert=CERT)`,
			"k8s.webhook: tls_key is required (path of the PEM private key)"},
		{"unknown kwarg", `k8s.webhook("/x", ` + ok + `, host="h", tls_cert=CERT, tls_key=KEY)`,
			"k8s.webhook: unknown keyword argument: host"},
		{"missing cert file", `k8s.webhook("/x", ` + ok + `, tls_cert=` + kitetest.Lit(missing) + `, tls_key=KEY)`,
			fmt.Sprintf("k8s.webhook: cannot read tls_cert %q: no such file or directory", missing)},
		{"missing key file", `k8s.webhook("/x", ` + ok + `, tls_cert=CERT, tls_key=` + kitetest.Lit(missing) + `)`,
			fmt.Sprintf("k8s.webhook: cannot read tls_key %q: no such file or directory", missing)},
		{"garbage cert", `k8s.webhook("/x", ` + ok + `, tls_cert=` + kitetest.Lit(garbage) + `, tls_key=KEY)`,
			fmt.Sprintf("k8s.webhook: cannot load TLS key pair from tls_cert %q and tls_key %q: ", garbage, w.keyFile)},
		{"mismatched key", `k8s.webhook("/x", ` + ok + `, tls_cert=CERT, tls_key=` + kitetest.Lit(other.keyFile) + `)`,
			fmt.Sprintf("k8s.webhook: cannot load TLS key pair from tls_cert %q and tls_key %q: tls: private key does not match public key", w.certFile, other.keyFile)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := webhookRuntime(t, w, nil)
			// an error returns at once (before listening): a bounded run
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := rt.Execute(ctx, c.call)
			if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, c.err) {
				t.Fatalf("error = %q, want prefix %q", msg, c.err)
			}
			if ctx.Err() != nil {
				t.Fatal("the call blocked instead of failing")
			}
			// try_webhook turns it into a Result
			got, _, err := kitetest.Eval(rt, "", "k8s.try_"+strings.TrimPrefix(c.call, "k8s.")+".error")
			if err != nil || !strings.HasPrefix(got, c.err) {
				t.Fatalf("try_webhook = %s (%v)", got, err)
			}
		})
	}
}

func TestWebhookPortInUse(t *testing.T) {
	w := newWebhookTLS(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	rt, _ := webhookRuntime(t, w, nil)
	err = rt.Execute(context.Background(), fmt.Sprintf(`k8s.webhook("/x", validate=lambda o: {"allowed": True}, port=%d, tls_cert=CERT, tls_key=KEY)`, port))
	if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, fmt.Sprintf("k8s.webhook: listen on :%d: ", port)) {
		t.Fatalf("error = %q", msg)
	}
}

// Handler threads inherit the permissions of the thread that called
// k8s.webhook (which itself needs none).
func TestWebhookPermissionInheritance(t *testing.T) {
	w := newWebhookTLS(t)
	src := `
def validate(obj):
    cm = k8s.get("configmap", "cm1", namespace="team-a")
    return {"allowed": True, "message": "read " + cm["data"]["k"]}

k8s.webhook("/p", validate=validate, port=0, tls_cert=CERT, tls_key=KEY)
`
	// the denial a script sees for the same call under the same policy
	deny := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.write"}}}
	rt, _ := webhookRuntime(t, w, deny)
	_, want, _ := kitetest.Eval(rt, "", `k8s.get("configmap", "cm1", namespace="team-a")`)
	if want == "" || !strings.Contains(want, "k8s.read") {
		t.Fatalf("the direct call was not denied as expected: %q", want)
	}

	for _, c := range []struct {
		name    string
		cfg     *libkite.Config
		allowed bool
		msg     string
	}{
		{"denied", deny, false, want},
		{"deny-all", &libkite.Config{Permissions: libkite.DenyAllPermissions()}, false, "k8s.read"},
		{"allowed", &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}}, true, "read v"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := webhookRuntime(t, w, c.cfg)
			s := startWebhook(t, rt, w, src)
			r := s.review("/p", "CREATE", configMap("x", nil, nil), nil)
			if r.Response.Allowed != c.allowed || !strings.Contains(r.message(), c.msg) {
				t.Fatalf("allowed=%v message=%q, want allowed=%v message containing %q", r.Response.Allowed, r.message(), c.allowed, c.msg)
			}
			if !c.allowed && !strings.Contains(r.message(), "permission denied") && !strings.Contains(r.message(), "denied") {
				t.Fatalf("message %q is not a permission denial", r.message())
			}
		})
	}
}

func dialable(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestWebhookCancellation(t *testing.T) {
	w := newWebhookTLS(t)

	t.Run("returns None when the context is cancelled", func(t *testing.T) {
		rt, _ := webhookRuntime(t, w, nil)
		if err := rt.Execute(context.Background(), `def allow(o):
    return {"allowed": True}
`); err != nil {
			t.Fatal(err)
		}
		allow, _ := rt.GetGlobalVal("allow")
		mod, err := rt.Eval(context.Background(), "k8s")
		if err != nil {
			t.Fatal(err)
		}
		fn, err := mod.(starlark.HasAttrs).Attr("webhook")
		if err != nil || fn == nil {
			t.Fatalf("k8s.webhook: %v", err)
		}
		started := make(chan webhookStart, 1)
		webhookStarts.Store(rt, started)
		defer webhookStarts.Delete(rt)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		type result struct {
			v   starlark.Value
			err error
		}
		res := make(chan result, 1)
		go func() {
			v, err := rt.CallFn(ctx, fn.(starlark.Callable), []any{"/c"},
				map[string]any{"validate": allow, "port": 0, "tls_cert": w.certFile, "tls_key": w.keyFile})
			res <- result{v, err}
		}()
		var port int
		select {
		case st := <-started:
			port = st.port
		case r := <-res:
			t.Fatalf("returned before serving: %v %v", r.v, r.err)
		case <-time.After(30 * time.Second):
			t.Fatal("not serving")
		}
		if !dialable(port) {
			t.Fatal("not listening")
		}
		// while serving, SIGINT/SIGTERM shut the server down
		if !rt.HasSignalHandler("SIGINT") || !rt.HasSignalHandler("SIGTERM") {
			t.Fatal("no SIGINT/SIGTERM handler while serving")
		}
		t0 := time.Now()
		cancel()
		select {
		case r := <-res:
			if r.err != nil || r.v != starlark.None {
				t.Fatalf("k8s.webhook returned %v, %v; want None", r.v, r.err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("k8s.webhook did not return after cancellation")
		}
		if d := time.Since(t0); d > 3*time.Second {
			t.Fatalf("returning took %v", d)
		}
		if dialable(port) {
			t.Fatal("still listening after returning")
		}
		if rt.HasSignalHandler("SIGINT") || rt.HasSignalHandler("SIGTERM") {
			t.Fatal("signal handlers left installed after returning")
		}
	})

	t.Run("in-flight request completes during graceful shutdown", func(t *testing.T) {
		rt, _ := webhookRuntime(t, w, nil)
		s := startWebhook(t, rt, w, `
def validate(obj):
    print("handling")
    time.sleep("400ms")
    return {"allowed": True, "message": "finished"}

k8s.webhook("/slow", validate=validate, port=0, tls_cert=CERT, tls_key=KEY)
`)
		got := make(chan reviewResponse, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodPost, s.url("/slow"), bytes.NewReader(admissionReviewJSON("slow", "CREATE", configMap("s", nil, nil), nil)))
			resp, err := s.http.Do(req)
			var r reviewResponse
			if err == nil {
				_ = json.NewDecoder(resp.Body).Decode(&r)
				resp.Body.Close()
			}
			got <- r
		}()
		time.Sleep(150 * time.Millisecond) // the handler is sleeping now
		_ = s.stop()
		select {
		case r := <-got:
			if !r.Response.Allowed || r.message() != "finished" {
				t.Fatalf("in-flight response = %+v", r.Response)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no response")
		}
		if dialable(s.port) {
			t.Fatal("still listening after the script ended")
		}
	})

	t.Run("runtime close stops the server", func(t *testing.T) {
		rt, _ := webhookRuntime(t, w, nil)
		s := startWebhook(t, rt, w, `k8s.webhook("/x", validate=lambda o: {"allowed": True}, port=0, tls_cert=CERT, tls_key=KEY)`)
		closed := make(chan struct{})
		go func() { rt.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("runtime Close did not return")
		}
		if dialable(s.port) {
			t.Fatal("still listening after the runtime closed")
		}
		select {
		case err := <-s.done:
			s.done <- err
		case <-time.After(10 * time.Second):
			t.Fatal("the script did not end when the runtime closed")
		}
	})
}

func TestWebhookDefaults(t *testing.T) {
	validate := starlark.NewBuiltin("v", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	})
	cfg, err := bindWebhook("k8s.webhook", starlark.Tuple{starlark.String("/admit"), validate}, []starlark.Tuple{
		{starlark.String("tls_cert"), starlark.String("c.pem")}, {starlark.String("tls_key"), starlark.String("k.pem")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.port != 9443 || cfg.path != "/admit" || cfg.validate != validate || cfg.mutate != nil || cfg.tlsCert != "c.pem" || cfg.tlsKey != "k.pem" {
		t.Fatalf("bound config = %+v, want port 9443 and the arguments given", cfg)
	}
	// positional order: path, validate, mutate, port, tls_cert, tls_key
	cfg, err = bindWebhook("k8s.webhook", starlark.Tuple{starlark.String("/m"), starlark.None, validate, starlark.MakeInt(0), starlark.String("c"), starlark.String("k")}, nil)
	if err != nil || cfg.port != 0 || cfg.validate != nil || cfg.mutate != validate {
		t.Fatalf("positional binding = %+v, %v", cfg, err)
	}
}
