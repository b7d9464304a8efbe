package k8s

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"go.starlark.net/starlark"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/project-starkite/starkite/libkite"
)

// Logs, exec, port-forward and copy (spec §7). The streams themselves go
// through the client's streamer (streams_client.go); cp is in
// streams_cp.go.

// streamOps: logs, logs_follow, exec, port_forward, cp (spec §7).
var streamOps = map[string]op{
	"logs":         {perm: permRead, run: opLogs},
	"logs_follow":  {perm: permRead, run: opLogsFollow},
	"exec":         {perm: permExec, run: opExec},
	"port_forward": {perm: permRead, permFn: "port_forward", run: opPortForward},
	"cp":           {perm: permExec, run: opCp},
}

// streamer is the streamer of the call's client (after begin).
func (x *call) streamer() (streamer, error) {
	return newStreamer(x.c)
}

// podNamespace is the namespace of a pod request: ns, else the client's
// default.
func (x *call) podNamespace(ns string) string {
	if ns == "" {
		return x.c.ns
	}
	return ns
}

// parseSince reads logs' since kwarg: "" → none, else a positive Go
// duration, rounded up to whole seconds (sinceSeconds).
func parseSince(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid since %q", s)
	}
	return int64(math.Ceil(d.Seconds())), nil
}

// logs(name, namespace="", container="", tail=0, since="", previous=False,
// timeout="") -> str
func opLogs(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, ns, container, since, timeout string
	var tail int
	var previous bool
	if err := x.bind(args, kwargs, "name", &name, "namespace?", &ns, "container?", &container, "tail?", &tail,
		"since?", &since, "previous?", &previous, "timeout?", &timeout); err != nil {
		return nil, err
	}
	sinceSeconds, err := parseSince(since)
	if err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	s, err := x.streamer()
	if err != nil {
		return nil, err
	}
	rc, err := s.logs(x.ctx, x.podNamespace(ns), name, logOptions{container: container, previous: previous,
		tailLines: int64(tail), sinceSeconds: sinceSeconds})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return starlark.String(b), nil
}

// logs_follow(name, handler, namespace="", container="", tail=0,
// timeout="") -> int: handler(line) per line until the stream ends, the
// timeout passes or the handler returns False.
func opLogsFollow(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, ns, container, timeout string
	var handler starlark.Value
	var tail int
	if err := x.bind(args, kwargs, "name", &name, "handler??", &handler, "namespace?", &ns, "container?", &container,
		"tail?", &tail, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if handler == nil || handler == starlark.None {
		return nil, errors.New("handler is required")
	}
	if _, ok := handler.(starlark.Callable); !ok {
		return nil, &plainError{fmt.Errorf("%s: for parameter handler: got %s, want callable", x.fn, handler.Type())}
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	s, err := x.streamer()
	if err != nil {
		return nil, err
	}
	// ended is how the stream ends when the call's context is done: the
	// op's own deadline ends it normally, a cancelled script raises.
	count := 0
	ended := func(err error) (starlark.Value, error) {
		if x.ctx.Err() != nil {
			if err := x.endErr(); err != nil {
				return nil, err
			}
			return starlark.MakeInt(count), nil
		}
		return nil, err
	}
	rc, err := s.logs(x.ctx, x.podNamespace(ns), name, logOptions{container: container, follow: true, tailLines: int64(tail)})
	if err != nil {
		return ended(err)
	}
	defer rc.Close()
	rd := bufio.NewReader(rc)
	for {
		line, rerr := rd.ReadString('\n')
		if line != "" {
			count++
			r, err := starlark.Call(x.thread, handler, starlark.Tuple{starlark.String(strings.TrimSuffix(line, "\n"))}, nil)
			if err != nil {
				return nil, fmt.Errorf("handler: %w", err)
			}
			if r == starlark.False {
				return starlark.MakeInt(count), nil
			}
		}
		if rerr == io.EOF {
			return starlark.MakeInt(count), nil
		}
		if rerr != nil {
			return ended(rerr)
		}
	}
}

// commandArgv is exec's command: a str runs under /bin/sh -c, a list (or
// tuple) of str is the argv as it is.
func commandArgv(fn string, v starlark.Value) ([]string, error) {
	bad := func(why string) error {
		return &plainError{fmt.Errorf("%s: for parameter command: %s", fn, why)}
	}
	switch v := v.(type) {
	case starlark.String:
		return []string{"/bin/sh", "-c", string(v)}, nil
	case *starlark.List, starlark.Tuple:
		seq := v.(starlark.Indexable)
		if seq.Len() == 0 {
			return nil, bad("empty command")
		}
		argv := make([]string, seq.Len())
		for i := range argv {
			s, ok := seq.Index(i).(starlark.String)
			if !ok {
				return nil, bad(fmt.Sprintf("element %d is %s, want string", i, seq.Index(i).Type()))
			}
			argv[i] = string(s)
		}
		return argv, nil
	}
	return nil, bad(fmt.Sprintf("got %s, want string or list of strings", v.Type()))
}

// execResult is exec's result dict.
func execResult(stdout, stderr string, code int) starlark.Value {
	d := starlark.NewDict(4)
	_ = d.SetKey(starlark.String("stdout"), starlark.String(stdout))
	_ = d.SetKey(starlark.String("stderr"), starlark.String(stderr))
	_ = d.SetKey(starlark.String("code"), starlark.MakeInt(code))
	_ = d.SetKey(starlark.String("exit_code"), starlark.MakeInt(code))
	return d
}

// exitCode is the remote exit status an exec error carries.
func exitCode(err error) (int, bool) {
	var ee utilexec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return ee.ExitStatus(), true
	}
	return 0, false
}

// exec(name, command, namespace="", container="", timeout="")
// -> {"stdout", "stderr", "code", "exit_code"}. A failing command (or a
// failure to run it at all) is reported in the result, not raised.
func opExec(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, ns, container, timeout string
	var command starlark.Value
	if err := x.bind(args, kwargs, "name", &name, "command", &command, "namespace?", &ns, "container?", &container,
		"timeout?", &timeout); err != nil {
		return nil, err
	}
	argv, err := commandArgv(x.fn, command)
	if err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	s, err := x.streamer()
	if err != nil {
		return nil, err
	}
	var stdout, stderr lockedBuffer
	err = s.exec(x.ctx, x.podNamespace(ns), name, container, argv, nil, &stdout, &stderr)
	code := 0
	errText := ""
	if err != nil {
		var ok bool
		if code, ok = exitCode(err); !ok {
			if err := x.endErr(); err != nil {
				return nil, err // the script is being cancelled
			}
			code, errText = 1, err.Error()
		}
	}
	return execResult(stdout.String(), appendLine(stderr.String(), errText), code), nil
}

// appendLine appends line to text, on a line of its own.
func appendLine(text, line string) string {
	if line == "" {
		return text
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + line
}

// portForwardReadyWait bounds port_forward's wait for the tunnel (when the
// client's default timeout is not shorter).
const portForwardReadyWait = 30 * time.Second

// port_forward(name, port, local_port=0, namespace="") -> port_forward:
// forwards localhost:local_port (0 = port) to the pod's port in the
// background until .stop(), the end of the script's run or the runtime's
// Close.
func opPortForward(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, ns string
	var port, local int
	if err := x.bind(args, kwargs, "name", &name, "port", &port, "local_port?", &local, "namespace?", &ns); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("invalid port %d", port)
	}
	if local < 0 || local > 65535 {
		return nil, fmt.Errorf("invalid local_port %d", local)
	}
	if local == 0 {
		local = port
	}
	if err := x.begin(""); err != nil {
		return nil, err
	}
	s, err := x.streamer()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(x.ctx, portForwardReadyWait)
	defer cancel()
	ns = x.podNamespace(ns)
	f, err := s.portForward(ctx, ns, name, local, port)
	if err != nil {
		if err := x.endErr(); err != nil {
			return nil, err
		}
		return nil, err
	}
	// The tunnel ends with the script's run (or the runtime), whichever
	// comes first, unless stopped before.
	run := libkite.Context(x.thread)
	go func() {
		select {
		case <-run.Done():
			f.stop()
		case <-f.done():
		}
	}()
	if rt := libkite.GetRuntime(x.thread); rt != nil {
		rt.AddCleanup(f.stop)
	}
	return &portForwardValue{f: f, pod: name, ns: ns, port: port}, nil
}

// portForwardValue is the handle port_forward returns.
type portForwardValue struct {
	f    forwarding
	pod  string
	ns   string
	port int
}

var _ starlark.HasAttrs = (*portForwardValue)(nil)

const portForwardType = "port_forward"

var portForwardMethods = libkite.Methods{
	"stop": func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := libkite.UnpackArgs(fn.Name(), args, kwargs); err != nil {
			return nil, err
		}
		fn.Receiver().(*portForwardValue).f.stop()
		return starlark.None, nil
	},
}

func (v *portForwardValue) String() string {
	return fmt.Sprintf("<port_forward localhost:%d -> %s/%s:%d>", v.f.localPort(), v.ns, v.pod, v.port)
}
func (v *portForwardValue) Type() string         { return portForwardType }
func (v *portForwardValue) Freeze()              {}
func (v *portForwardValue) Truth() starlark.Bool { return true }
func (v *portForwardValue) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", portForwardType)
}
func (v *portForwardValue) AttrNames() []string {
	return portForwardMethods.Names("local_port")
}
func (v *portForwardValue) Attr(name string) (starlark.Value, error) {
	if name == "local_port" {
		return starlark.MakeInt(v.f.localPort()), nil
	}
	return portForwardMethods.Attr(v, portForwardType, name), nil
}
