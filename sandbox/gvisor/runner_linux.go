//go:build linux

package gvisor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	gvlog "gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/runsc/config"
	"gvisor.dev/gvisor/runsc/container"
	"gvisor.dev/gvisor/runsc/flag"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/sandbox"
)

// gvisorLog is where gVisor's own log went before kite silenced it.
var gvisorLog gvlog.Emitter

func init() {
	// gVisor narrates its start-up and warns about host tuning and
	// deployment choices that are deliberate here (kite is its own
	// sentry binary; every run has a private state directory). Script
	// authors see none of it unless they ask with --debug; real failures
	// come back as errors.
	gvisorLog = gvlog.Log().Emitter
	gvlog.SetTarget(discard{})
	gvlog.SetLevel(gvlog.Warning)
}

type discard struct{}

func (discard) Emit(int, gvlog.Level, time.Time, string, ...any) {}

// Runner is the gVisor sandbox.Runner.
type Runner struct{}

// Register makes the gVisor runner this binary's sandbox backend.
func Register() { sandbox.Backend = Runner{} }

// Run runs the invocation inside gVisor and returns when the inner
// process has exited: nil for status 0, *sandbox.ExitError for any other
// status. Argv, environment and working directory come from spec when
// set, else from the live process.
func (Runner) Run(ctx context.Context, spec sandbox.ExecSpec) error {
	if err := preflight(); err != nil {
		return err
	}
	if err := staticBuild(buildSettings()); err != nil {
		return err
	}
	if spec.Debug {
		gvlog.SetTarget(gvisorLog)
		gvlog.SetLevel(gvlog.Info)
	}
	// gVisor writes a regular-file stdout or stderr at its own offsets;
	// in append mode every write lands at the end, so `kite ... > out`
	// keeps both the script's output and kite's own.
	appendIfRegular(os.Stdout)
	appendIfRegular(os.Stderr)
	cwd := spec.Cwd
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return fmt.Errorf("sandbox: working directory: %w", err)
		}
	}
	// os.Executable, not /proc/self/exe: /proc is not mounted yet when
	// the sentry loads the binary.
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sandbox: locating the kite binary: %w", err)
	}
	argv := spec.Args
	if argv == nil {
		argv = sandbox.StripSelectors(os.Args[1:])
	}
	env := spec.Env
	if env == nil {
		env = os.Environ()
	}

	b, err := newBundle(os.TempDir())
	if err != nil {
		return fmt.Errorf("sandbox run: creating bundle: %w", err)
	}
	defer b.remove()
	if err := b.mountpoints(spec.Profile); err != nil {
		return fmt.Errorf("sandbox run: creating mount points: %w", err)
	}
	ociSpec := buildSpec(specInput{
		profile:    spec.Profile,
		args:       append([]string{kitePath, runtimeMarker}, argv...),
		env:        insideEnv(env),
		cwd:        cwd,
		hostBinary: exe,
		rootfs:     b.rootfs,
		uid:        uint32(os.Getuid()),
		gid:        uint32(os.Getgid()),
		memory:     spec.MemoryBytes,
	})
	if err := b.writeSpec(ociSpec); err != nil {
		return fmt.Errorf("sandbox run: %w", err)
	}
	conf, err := runscConfig(spec.Profile, b.stateDir)
	if err != nil {
		return fmt.Errorf("sandbox run: gVisor config: %w", err)
	}
	args := container.Args{ID: b.id, Spec: ociSpec, BundleDir: b.dir, Attached: true}
	if len(spec.ExtraFiles) > 0 {
		args.PassFiles = make(map[int]*os.File, len(spec.ExtraFiles))
		for i, f := range spec.ExtraFiles {
			args.PassFiles[3+i] = f
		}
	}
	ws, oomKills, err := run(ctx, conf, args)
	if err != nil {
		return fmt.Errorf("sandbox run: %w", err)
	}
	if oomKills > 0 && spec.MemoryBytes > 0 {
		return &libkite.ScriptError{Message: "sandbox stopped", ExitCode: libkite.ExitScriptError,
			Cause: &libkite.LimitError{Limit: libkite.LimitMemory, Detail: fmt.Sprintf(
				"the sandbox reached its memory cgroup limit of %d bytes and the kernel killed it", spec.MemoryBytes)}}
	}
	return waitError(ws)
}

// run is container.Run plus what kite needs on top: every signal the
// outer process receives (Ctrl-C, SIGTERM from a supervisor) is forwarded
// to the script, and cancelling ctx kills the sandbox. oomKills counts
// the kernel's OOM kills in the sandbox's memory cgroup.
func run(ctx context.Context, conf *config.Config, args container.Args) (ws unix.WaitStatus, oomKills int, err error) {
	c, err := container.New(conf, args)
	if err != nil {
		return 0, 0, fmt.Errorf("creating container: %w", err)
	}
	defer c.Destroy()
	if err := c.Start(conf); err != nil {
		return 0, 0, fmt.Errorf("starting container: %w", err)
	}
	stopForwarding := c.ForwardSignals(0, false)
	defer stopForwarding()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			c.SignalContainer(unix.SIGKILL, true)
		case <-done:
		}
	}()
	ws, err = c.Wait()
	if c.Sandbox != nil && c.Sandbox.CgroupJSON.Cgroup != nil {
		oomKills = cgroupOOMKills(c.Sandbox.CgroupJSON.Cgroup.MakePath("memory"))
	}
	return ws, oomKills, err
}

// cgroupOOMKills reads the OOM-kill count of the memory cgroup at dir
// (cgroup v1 memory.oom_control, v2 memory.events); 0 when unreadable.
func cgroupOOMKills(dir string) int {
	for _, f := range []string{"memory.oom_control", "memory.events"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if n, ok := strings.CutPrefix(line, "oom_kill "); ok {
				k, _ := strconv.Atoi(strings.TrimSpace(n))
				return k
			}
		}
	}
	return 0
}

// runscConfig is gVisor's default configuration (its flag defaults) with
// kite's settings: rootless, state under TMPDIR, no overlay (mounts are
// exposed directly; the default writable overlay needs a host filestore
// rootless mode cannot provide) and the profile's network.
func runscConfig(p sandbox.Profile, stateDir string) (*config.Config, error) {
	fs := flag.NewFlagSet("kite-sandbox", flag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse(nil); err != nil {
		return nil, err
	}
	conf, err := config.NewFromFlags(fs)
	if err != nil {
		return nil, err
	}
	conf.RootDir = stateDir
	conf.Rootless = true
	if err := conf.Overlay2.Set("none"); err != nil {
		return nil, err
	}
	conf.Network = networkMode(p.Network)
	return conf, nil
}

// networkMode maps a profile's network to runsc's (sandbox.md §6.5).
// Loopback is NetworkNone, gVisor's own stack with only lo: runsc's
// "sandbox" mode would copy the host's interfaces, which rootless mode
// cannot read.
func networkMode(m sandbox.NetworkMode) config.NetworkType {
	if m == sandbox.NetworkHost {
		return config.NetworkHost
	}
	return config.NetworkNone
}

// appendIfRegular puts f in append mode when it is a regular file.
func appendIfRegular(f *os.File) {
	var st unix.Stat_t
	fd := int(f.Fd())
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return
	}
	if fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); err == nil && fl&unix.O_APPEND == 0 {
		unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl|unix.O_APPEND)
	}
}

// staticBuild rejects a binary built with cgo: gVisor's sentry runs this
// binary and needs it static, and fails with an unreadable "cannot read
// client sync file" otherwise.
func staticBuild(settings map[string]string) error {
	if settings["CGO_ENABLED"] == "1" {
		return fmt.Errorf("sandbox: this kite was built with CGO_ENABLED=1, and gVisor needs a static binary; " +
			"rebuild it with CGO_ENABLED=0 (make build does)")
	}
	return nil
}

// buildSettings are the binary's build settings (go version -m).
func buildSettings() map[string]string {
	m := map[string]string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			m[s.Key] = s.Value
		}
	}
	return m
}

// insideEnv is env with STARKITE_INSIDE_SANDBOX=1 (the recursion guard).
func insideEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, sandbox.InsideEnvVar+"=") {
			out = append(out, kv)
		}
	}
	return append(out, sandbox.InsideEnvVar+"=1")
}

// waitError maps the inner process's wait status to Run's result.
func waitError(ws unix.WaitStatus) error {
	switch {
	case ws.Exited() && ws.ExitStatus() == 0:
		return nil
	case ws.Exited():
		return &sandbox.ExitError{Code: ws.ExitStatus()}
	case ws.Signaled():
		return fmt.Errorf("sandbox process killed by signal %v", ws.Signal())
	default:
		return fmt.Errorf("sandbox process exited with unexpected status %v", ws)
	}
}
