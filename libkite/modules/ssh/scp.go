package ssh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	gossh "golang.org/x/crypto/ssh"

	"github.com/project-starkite/starkite/libkite"
)

// uploadMethod: client.upload(src, dst, *, mode="0644") → list of
// SSHTransferResult. Checks ssh.transfer:upload("<host>:<src>-><dst>") per
// host and fs.read on src. Sends src to every host with `scp -t <dst>`.
func uploadMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := fn.Receiver().(*Client)
	var src, dst string
	mode := "0644"
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "src", &src, "dst", &dst, "*", nil, "mode?", &mode); err != nil {
		return nil, bindingError(err, args, []string{"src", "dst"})
	}
	if err := c.checkTransfer(thread, "upload", src, dst); err != nil {
		return nil, err
	}
	if len(c.opts.hosts) == 0 {
		return starlark.NewList(nil), nil
	}
	if _, err := parseMode(mode); err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", src)
	if err != nil {
		return nil, err
	}
	keyPath, khPath, err := c.fileChecks(thread)
	if err != nil {
		return nil, err
	}
	if c.dryRun(thread) {
		return c.dryTransfers(src, dst), nil
	}
	f, size, err := openSource(libkite.HostPath(canon, src), src)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, err := c.newDialer(keyPath, khPath)
	if err != nil {
		return nil, err
	}
	defer d.close()
	name := filepath.Base(src)
	if strings.ContainsAny(name, "\n\r") {
		return nil, fmt.Errorf("%s: file name %q cannot be sent over scp", fn.Name(), name)
	}
	results := make([]starlark.Value, len(c.opts.hosts))
	err = c.eachHost(libkite.Context(thread), func(ctx context.Context, i int, host string) error {
		n, err := d.upload(ctx, host, io.NewSectionReader(f, 0, size), size, mode, name, dst)
		if err == nil {
			results[i] = transferResult(host, src, dst, n, false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return starlark.NewList(results), nil
}

// openSource opens the regular file to upload (path: the checked one to
// open; given: the script's, for messages).
func openSource(path, given string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to read local file: %v", libkite.GivenPathError(err, given))
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", given)
	}
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("failed to read local file: %v", err)
	}
	return f, info.Size(), nil
}

// downloadMethod: client.download(src, dst) → list of SSHTransferResult.
// Checks ssh.transfer:download("<host>:<src>-><dst>") per host and
// fs.write on each local file written (and fs.write:mkdir on each missing
// parent directory). With several hosts, host h's copy goes to <dst>.<h>.
func downloadMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := fn.Receiver().(*Client)
	var src, dst string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "src", &src, "dst", &dst); err != nil {
		return nil, bindingError(err, args, []string{"src", "dst"})
	}
	if err := c.checkTransfer(thread, "download", src, dst); err != nil {
		return nil, err
	}
	if len(c.opts.hosts) == 0 {
		return starlark.NewList(nil), nil
	}
	dsts := make([]string, len(c.opts.hosts))    // as reported
	targets := make([]string, len(c.opts.hosts)) // as opened
	seen := map[string]bool{}
	for i, h := range c.opts.hosts {
		dsts[i] = dst
		if len(c.opts.hosts) > 1 {
			dsts[i] = dst + "." + h
		}
		canon, err := libkite.CheckPath(thread, "fs", "write", "write", dsts[i])
		if err != nil {
			return nil, err
		}
		targets[i] = libkite.HostPath(canon, dsts[i])
		for dir := filepath.Dir(canon); !seen[dir]; dir = filepath.Dir(dir) {
			seen[dir] = true
			if _, err := os.Lstat(dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
				break
			}
			if err := libkite.Check(thread, "fs", "write", "mkdir", dir); err != nil {
				return nil, err
			}
		}
	}
	keyPath, khPath, err := c.fileChecks(thread)
	if err != nil {
		return nil, err
	}
	if c.dryRun(thread) {
		return c.dryTransfers(src, dst), nil
	}
	d, err := c.newDialer(keyPath, khPath)
	if err != nil {
		return nil, err
	}
	defer d.close()
	results := make([]starlark.Value, len(c.opts.hosts))
	err = c.eachHost(libkite.Context(thread), func(ctx context.Context, i int, host string) error {
		n, err := d.download(ctx, host, src, targets[i])
		if err == nil {
			results[i] = transferResult(host, src, dsts[i], n, false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return starlark.NewList(results), nil
}

// checkTransfer checks ssh.transfer:<function>("<host>:<src>-><dst>") for
// every host, in order.
func (c *Client) checkTransfer(thread *starlark.Thread, function, src, dst string) error {
	for _, h := range c.opts.hosts {
		if err := libkite.Check(thread, "ssh", "transfer", function, h+":"+src+"->"+dst); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) dryTransfers(src, dst string) starlark.Value {
	out := make([]starlark.Value, len(c.opts.hosts))
	for i, h := range c.opts.hosts {
		out[i] = transferResult(h, src, dst, 0, true)
	}
	return starlark.NewList(out)
}

// transferResult is an SSHTransferResult struct.
func transferResult(host, src, dst string, n int64, dryRun bool) starlark.Value {
	d := starlark.StringDict{
		"host":  starlark.String(host),
		"ok":    starlark.True,
		"bytes": starlark.MakeInt64(n),
		"src":   starlark.String(src),
		"dst":   starlark.String(dst),
	}
	if dryRun {
		d["dry_run"] = starlark.True
	}
	return starlarkstruct.FromStringDict(starlark.String("SSHTransferResult"), d)
}

// parseMode reads an SCP mode: 1 to 4 octal digits.
func parseMode(s string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || len(s) > 4 {
		return 0, fmt.Errorf("invalid mode %q (want octal such as \"0644\")", s)
	}
	return fs.FileMode(n), nil
}

// scpSession is a remote scp process: its stdin, its stdout (buffered)
// and the first bytes of its stderr (for error messages).
type scpSession struct {
	sess   *gossh.Session
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *limitedBuffer
}

func startSCP(c *conn, command string) (*scpSession, error) {
	sess, err := c.NewSession()
	if err != nil {
		return nil, fmt.Errorf("failed to open session: %w", err)
	}
	s := &scpSession{sess: sess, stderr: &limitedBuffer{max: 4096}}
	sess.Stderr = s.stderr
	if s.in, err = sess.StdinPipe(); err == nil {
		var out io.Reader
		if out, err = sess.StdoutPipe(); err == nil {
			s.out = bufio.NewReaderSize(out, 64<<10)
			err = sess.Start(command)
		}
	}
	if err != nil {
		sess.Close()
		return nil, fmt.Errorf("failed to start %q: %w", command, err)
	}
	return s, nil
}

// fail gives err the remote stderr, if any, as context.
func (s *scpSession) fail(step string, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	if msg := strings.TrimSpace(s.stderr.String()); msg != "" {
		return fmt.Errorf("%s: %w (remote stderr: %s)", step, err, msg)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// finish closes stdin and waits for the remote scp to exit successfully.
func (s *scpSession) finish() error {
	s.in.Close()
	err := s.sess.Wait()
	s.sess.Close()
	var exit *gossh.ExitError
	if errors.As(err, &exit) {
		return s.fail("scp completion", fmt.Errorf("remote scp exited with status %d", exit.ExitStatus()))
	}
	if err != nil {
		return s.fail("scp completion", err)
	}
	return nil
}

// upload sends size bytes of r as one file with `scp -t <dst>`.
func (d *dialer) upload(ctx context.Context, host string, r io.Reader, size int64, mode, name, dst string) (int64, error) {
	c, err := d.connect(ctx, host)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s, err := startSCP(c, "scp -t "+scpPath(dst))
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	defer s.sess.Close()
	if err := readAck(s.out); err != nil {
		return 0, ctxErr(ctx, s.fail("scp start", err))
	}
	if _, err := fmt.Fprintf(s.in, "C%s %d %s\n", mode, size, name); err != nil {
		return 0, ctxErr(ctx, s.fail("scp file header", err))
	}
	if err := readAck(s.out); err != nil {
		return 0, ctxErr(ctx, s.fail("scp file header", err))
	}
	n, err := io.Copy(s.in, libkite.ContextReader(ctx, io.LimitReader(r, size)))
	if err == nil && n != size {
		err = fmt.Errorf("local file shrank to %d bytes while sending", n)
	}
	if err == nil {
		_, err = s.in.Write([]byte{0})
	}
	if err == nil {
		err = readAck(s.out)
	}
	if err != nil {
		return 0, ctxErr(ctx, s.fail("scp file content", err))
	}
	if err := s.finish(); err != nil {
		return 0, ctxErr(ctx, err)
	}
	return n, nil
}

// download fetches one file with `scp -f <src>` into target (atomically:
// a failed transfer leaves no file), creating missing parent directories
// (0755). A new file gets the remote mode (less umask); an existing one
// keeps its permissions, as with scp.
func (d *dialer) download(ctx context.Context, host, src, target string) (int64, error) {
	c, err := d.connect(ctx, host)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s, err := startSCP(c, "scp -f "+scpPath(src))
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	defer s.sess.Close()
	if _, err := s.in.Write([]byte{0}); err != nil {
		return 0, ctxErr(ctx, s.fail("scp start", err))
	}
	var h header
	for {
		line, err := s.out.ReadString('\n')
		if err != nil {
			if len(line) > 0 && (line[0] == 1 || line[0] == 2) {
				return 0, ctxErr(ctx, fmt.Errorf("scp error: %s", strings.TrimSpace(line[1:])))
			}
			return 0, ctxErr(ctx, s.fail("scp file header", err))
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			return 0, s.fail("scp file header", errors.New("empty protocol line"))
		}
		switch line[0] {
		case 1, 2:
			return 0, fmt.Errorf("scp error: %s", line[1:])
		case 'T': // times: acknowledged, not applied
			if _, err := s.in.Write([]byte{0}); err != nil {
				return 0, ctxErr(ctx, s.fail("scp file header", err))
			}
			continue
		case 'D':
			s.in.Write([]byte("\x02directories are not supported\n"))
			return 0, fmt.Errorf("scp: %s is a directory (directories are not supported)", src)
		}
		if h, err = parseHeader(line); err != nil {
			return 0, s.fail("scp file header", err)
		}
		break
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	f, err := libkite.CreateAtomic(target, h.mode&fs.ModePerm)
	if err != nil {
		return 0, err
	}
	defer f.Abort()
	if _, err := s.in.Write([]byte{0}); err != nil {
		return 0, ctxErr(ctx, s.fail("scp file content", err))
	}
	n, err := io.CopyN(f, libkite.ContextReader(ctx, s.out), h.size)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return 0, err // local write error
		}
		return 0, ctxErr(ctx, s.fail("scp file content", err))
	}
	if err := readAck(s.out); err != nil {
		return 0, ctxErr(ctx, s.fail("scp file content", err))
	}
	if _, err := s.in.Write([]byte{0}); err != nil {
		return 0, ctxErr(ctx, s.fail("scp file content", err))
	}
	if err := s.finish(); err != nil {
		return 0, ctxErr(ctx, err)
	}
	return n, f.Commit()
}

// scpPath renders a remote path as the operand of scp: shell-quoted when
// needed, and never taken for an option ("-x" becomes "./-x").
func scpPath(p string) string {
	if strings.HasPrefix(p, "-") {
		p = "./" + p
	}
	return shellQuote(p)
}

// header is an SCP "C<mode> <size> <name>" line.
type header struct {
	mode     fs.FileMode
	modeText string
	size     int64
	name     string
}

func parseHeader(line string) (header, error) {
	bad := fmt.Errorf("malformed file header %q", line)
	if !strings.HasPrefix(line, "C") {
		return header{}, bad
	}
	f := strings.SplitN(line[1:], " ", 3)
	if len(f) != 3 || f[2] == "" || strings.ContainsAny(f[2], "/\x00") || f[2] == ".." {
		return header{}, bad
	}
	mode, err := parseMode(f[0])
	if err != nil {
		return header{}, bad
	}
	size, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || size < 0 {
		return header{}, bad
	}
	return header{mode: mode, modeText: f[0], size: size, name: f[2]}, nil
}

// scpError is an SCP error reply (code 1: warning, 2: fatal).
type scpError struct {
	code int
	msg  string
}

func (e *scpError) Error() string { return fmt.Sprintf("scp error (code %d): %s", e.code, e.msg) }

// readAck reads one SCP response byte: 0 is success, 1 and 2 are followed
// by a message line.
func readAck(r *bufio.Reader) error {
	b, err := r.ReadByte()
	if err != nil {
		return err
	}
	switch b {
	case 0:
		return nil
	case 1, 2:
		msg, _ := r.ReadString('\n')
		return &scpError{code: int(b), msg: strings.TrimSuffix(msg, "\n")}
	}
	return fmt.Errorf("unexpected scp response byte %#x", b)
}

// limitedBuffer keeps the first max bytes written to it. It is written by
// the session's copying goroutine and may be read before Wait.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
