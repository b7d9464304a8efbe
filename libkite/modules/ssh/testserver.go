package ssh

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// ExecHandler answers a test server's exec request: cmd is the command
// string the client sent; ctx ends when the client's connection closes or
// the server shuts down.
type ExecHandler func(ctx context.Context, cmd string) (stdout, stderr string, code int)

// SCPFile is a file of a test server's virtual filesystem.
type SCPFile struct {
	Name    string // base name (from the SCP header for uploads)
	Mode    string // octal mode text, as sent ("0644")
	Content []byte
}

// maxSCPFile bounds a file uploaded to a test server (held in memory).
const maxSCPFile = 256 << 20

// TestServer is an in-process SSH server for tests (ssh.test_server). It
// listens on 127.0.0.1 with a random ed25519 host key and serves:
//
//   - exec requests: "scp -t <path>" and "scp -f <path>" run an SCP sink
//     and source over a virtual filesystem (AddFile, Uploaded); any other
//     command goes to the exec handler (default: no output, status 0);
//   - direct-tcpip channels to loopback addresses, so it can be the jump
//     host in front of another test server.
//
// Password auth succeeds only for the configured user and non-empty
// password; public-key auth accepts any key.
type TestServer struct {
	user, password string
	signer         gossh.Signer
	config         *gossh.ServerConfig

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	handler    ExecHandler
	files      map[string]SCPFile // what scp -f serves: AddFile and uploads
	uploads    map[string]SCPFile
	commands   []string
	keepAlives int
	ln         net.Listener
	conns      map[net.Conn]struct{}
	stopped    bool

	onShutdown func() // set once, before the server is shared
}

// NewTestServer builds a server (not yet listening) for user and
// password.
func NewTestServer(user, password string) (*TestServer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		return nil, err
	}
	s := &TestServer{user: user, password: password, signer: signer,
		files: map[string]SCPFile{}, uploads: map[string]SCPFile{}, conns: map[net.Conn]struct{}{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.config = &gossh.ServerConfig{
		PasswordCallback: func(c gossh.ConnMetadata, pw []byte) (*gossh.Permissions, error) {
			if s.password != "" && c.User() == s.user && string(pw) == s.password {
				return nil, nil
			}
			return nil, errors.New("password rejected")
		},
		PublicKeyCallback: func(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) {
			return nil, nil
		},
	}
	s.config.AddHostKey(signer)
	return s, nil
}

// HostKey is the server's public host key.
func (s *TestServer) HostKey() gossh.PublicKey { return s.signer.PublicKey() }

// HandleExec sets the handler of non-SCP exec requests (nil: the default).
func (s *TestServer) HandleExec(h ExecHandler) {
	s.mu.Lock()
	s.handler = h
	s.mu.Unlock()
}

// AddFile makes path downloadable with the given content and octal mode.
func (s *TestServer) AddFile(p string, content []byte, mode string) error {
	if _, err := parseMode(mode); err != nil {
		return err
	}
	s.mu.Lock()
	s.files[p] = SCPFile{Name: path.Base(p), Mode: mode, Content: append([]byte(nil), content...)}
	s.mu.Unlock()
	return nil
}

// Uploaded returns the file last uploaded to path.
func (s *TestServer) Uploaded(p string) (SCPFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.uploads[p]
	return f, ok
}

// Commands lists the non-SCP commands executed so far, in arrival order.
func (s *TestServer) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...)
}

// KeepAlives counts the keepalive@openssh.com requests received so far.
func (s *TestServer) KeepAlives() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keepAlives
}

// Start begins listening on 127.0.0.1 (OS-assigned port).
func (s *TestServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return errors.New("server is shut down")
	case s.ln != nil:
		return errors.New("server already started")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept(ln)
	return nil
}

// Shutdown stops listening, closes open connections (cancelling running
// handlers) and waits until every connection goroutine is gone.
// Idempotent.
func (s *TestServer) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	if s.onShutdown != nil {
		s.onShutdown()
	}
}

// Port is the listening port (0 before Start).
func (s *TestServer) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return 0
	}
	return s.ln.Addr().(*net.TCPAddr).Port
}

// Addr is "127.0.0.1:<port>" ("" before Start).
func (s *TestServer) Addr() string {
	if p := s.Port(); p != 0 {
		return "127.0.0.1:" + strconv.Itoa(p)
	}
	return ""
}

func (s *TestServer) accept(ln net.Listener) {
	defer s.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(nc)
	}
}

// serveConn runs one client connection until it closes.
func (s *TestServer) serveConn(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	sc, chans, reqs, err := gossh.NewServerConn(nc, s.config)
	if err != nil {
		return
	}
	defer sc.Close()
	nc.SetDeadline(time.Time{})
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	s.goTracked(func() {
		for req := range reqs { // global requests: counted keep-alives, all refused
			if req.Type == "keepalive@openssh.com" {
				s.mu.Lock()
				s.keepAlives++
				s.mu.Unlock()
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	})
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			s.goTracked(func() { s.session(ctx, nch) })
		case "direct-tcpip":
			s.goTracked(func() { s.forward(ctx, nch) })
		default:
			nch.Reject(gossh.UnknownChannelType, "unsupported channel type")
		}
	}
}

// goTracked runs fn in a goroutine Shutdown waits for. Only called while
// a tracked goroutine runs, so the count is never zero here.
func (s *TestServer) goTracked(fn func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
}

// session serves one session channel: a single exec request.
func (s *TestServer) session(ctx context.Context, nch gossh.NewChannel) {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if err := gossh.Unmarshal(req.Payload, &p); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			s.goTracked(func() { gossh.DiscardRequests(reqs) })
			code := s.exec(ctx, ch, p.Command)
			ch.CloseWrite()
			ch.SendRequest("exit-status", false, gossh.Marshal(struct{ Status uint32 }{code}))
			return
		case "env":
			req.Reply(true, nil) // accepted and ignored
		default: // pty-req, shell, subsystem, ...
			req.Reply(false, nil)
		}
	}
}

func (s *TestServer) exec(ctx context.Context, ch gossh.Channel, cmd string) uint32 {
	if rest, ok := strings.CutPrefix(cmd, "scp -t "); ok {
		return s.scpSink(ch, rest)
	}
	if rest, ok := strings.CutPrefix(cmd, "scp -f "); ok {
		return s.scpSource(ch, rest)
	}
	s.mu.Lock()
	s.commands = append(s.commands, cmd)
	h := s.handler
	s.mu.Unlock()
	if h == nil {
		return 0
	}
	stdout, stderr, code := h(ctx, cmd)
	io.WriteString(ch, stdout)
	io.WriteString(ch.Stderr(), stderr)
	if code < 0 {
		return 255
	}
	return uint32(code)
}

// scpSink receives files (scp -t): each "C<mode> <size> <name>" header is
// acknowledged, its content read and stored at the target path (or
// <path><name> when the path ends in "/").
func (s *TestServer) scpSink(ch gossh.Channel, args string) uint32 {
	target, err := scpTarget(args)
	if err != nil {
		fmt.Fprintf(ch, "\x02%v\n", err)
		return 1
	}
	r := bufio.NewReader(ch)
	fail := func(msg string) uint32 {
		fmt.Fprintf(ch, "\x02%s\n", msg)
		return 1
	}
	ch.Write([]byte{0})
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			if err == io.EOF && line == "" {
				return 0
			}
			return 1
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			return fail("protocol error: empty line")
		case line[0] == 'T' || line[0] == 'E':
			ch.Write([]byte{0})
			continue
		case line[0] == 'D':
			return fail("directories are not supported")
		case line[0] == 1 || line[0] == 2:
			return 1
		}
		h, err := parseHeader(line)
		if err != nil {
			return fail("protocol error: " + err.Error())
		}
		if h.size > maxSCPFile {
			return fail("file too large")
		}
		ch.Write([]byte{0})
		content := make([]byte, h.size)
		if _, err := io.ReadFull(r, content); err != nil {
			return 1
		}
		if b, err := r.ReadByte(); err != nil || b != 0 {
			return fail("protocol error: missing end of file marker")
		}
		p := target
		if strings.HasSuffix(p, "/") {
			p += h.name
		}
		f := SCPFile{Name: h.name, Mode: h.modeText, Content: content}
		s.mu.Lock()
		s.uploads[p] = f
		s.files[p] = f
		s.mu.Unlock()
		ch.Write([]byte{0})
	}
}

// scpSource sends one file (scp -f) once the client is ready.
func (s *TestServer) scpSource(ch gossh.Channel, args string) uint32 {
	r := bufio.NewReader(ch)
	target, err := scpTarget(args)
	if b, rerr := r.ReadByte(); rerr != nil || b != 0 {
		return 1
	}
	if err != nil {
		fmt.Fprintf(ch, "\x02%v\n", err)
		return 1
	}
	s.mu.Lock()
	f, ok := s.files[target]
	s.mu.Unlock()
	if !ok {
		io.WriteString(ch, "\x01file not found\n")
		return 1
	}
	fmt.Fprintf(ch, "C%s %d %s\n", f.Mode, len(f.Content), f.Name)
	if err := readAck(r); err != nil {
		return 1
	}
	ch.Write(f.Content)
	ch.Write([]byte{0})
	if err := readAck(r); err != nil {
		return 1
	}
	return 0
}

// scpTarget is the path operand of "scp -t|-f [flags] [--] <path>".
func scpTarget(args string) (string, error) {
	words, err := shellWords(args)
	if err != nil {
		return "", err
	}
	for len(words) > 1 && strings.HasPrefix(words[0], "-") {
		if words[0] == "-r" {
			return "", errors.New("directories are not supported")
		}
		done := words[0] == "--"
		words = words[1:]
		if done {
			break
		}
	}
	if len(words) != 1 || words[0] == "" {
		return "", errors.New("expected exactly one path")
	}
	return words[0], nil
}

// shellWords splits s the way a POSIX shell splits plain words: blanks
// separate, single quotes are literal, double quotes and backslashes
// escape. Expansions are not performed.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
			in = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("unterminated quote")
			}
			in = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			in = true
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

// forward serves a direct-tcpip channel: a TCP tunnel to a loopback
// address (so the server can be a jump host for another test server).
func (s *TestServer) forward(ctx context.Context, nch gossh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := gossh.Unmarshal(nch.ExtraData(), &p); err != nil {
		nch.Reject(gossh.ConnectionFailed, "malformed direct-tcpip request")
		return
	}
	if ip := net.ParseIP(p.Host); p.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		nch.Reject(gossh.Prohibited, "the test server only forwards to loopback addresses")
		return
	}
	d := net.Dialer{Timeout: 10 * time.Second}
	tcp, err := d.DialContext(ctx, "tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		nch.Reject(gossh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		tcp.Close()
		return
	}
	s.goTracked(func() { gossh.DiscardRequests(reqs) })
	var once sync.Once
	closeBoth := func() { once.Do(func() { ch.Close(); tcp.Close() }) }
	stop := context.AfterFunc(ctx, closeBoth)
	defer stop()
	done := make(chan struct{})
	go func() {
		io.Copy(tcp, ch)
		closeBoth()
		close(done)
	}()
	io.Copy(ch, tcp)
	closeBoth()
	<-done
}
