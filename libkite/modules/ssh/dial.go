package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/project-starkite/starkite/libkite"
)

// retryDelay is the first pause between dial attempts; each later pause
// doubles it (1s, 2s, 4s, …). Tests shorten it.
var retryDelay = time.Second

// fileChecks runs the fs.read checks of the files an operation reads
// before it dials: the private key and, when host keys are verified, the
// known_hosts file. It returns their canonical paths.
func (c *Client) fileChecks(thread *starlark.Thread) (key, knownHosts string, err error) {
	if c.opts.key != "" {
		if key, err = libkite.CheckPath(thread, "fs", "read", "read_file", c.opts.key); err != nil {
			return "", "", err
		}
	}
	if c.opts.hostKeyCheck {
		if knownHosts, err = libkite.CheckPath(thread, "fs", "read", "read_file", c.opts.knownHostsFile); err != nil {
			return "", "", err
		}
	}
	return key, knownHosts, nil
}

// dialer connects to hosts with one operation's settings (auth methods,
// host key verification, retries). It is safe for concurrent use; close
// releases the agent connection.
type dialer struct {
	opts       *options
	auth       []gossh.AuthMethod
	hostKey    gossh.HostKeyCallback
	knownHosts gossh.HostKeyCallback // nil when not verifying
	agentConn  net.Conn
}

// newDialer reads the private key and known_hosts (at their checked
// canonical paths) and reaches the SSH agent, once per operation.
func (c *Client) newDialer(keyPath, knownHostsPath string) (*dialer, error) {
	o := &c.opts
	d := &dialer{opts: o}
	var signers []gossh.Signer
	if o.key != "" {
		pem, err := os.ReadFile(libkite.HostPath(keyPath, o.key))
		if err != nil {
			return nil, fmt.Errorf("failed to read private key: %v", libkite.GivenPathError(err, o.key))
		}
		var signer gossh.Signer
		if o.keyPassphrase != "" {
			signer, err = gossh.ParsePrivateKeyWithPassphrase(pem, []byte(o.keyPassphrase))
		} else {
			signer, err = gossh.ParsePrivateKey(pem)
		}
		if err != nil {
			return nil, fmt.Errorf("failed to parse private key: %v", err)
		}
		signers = append(signers, signer)
	}
	var agentSigners func() ([]gossh.Signer, error)
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
		if conn, err := net.DialTimeout("unix", sock, 2*time.Second); err == nil {
			d.agentConn = conn
			agentSigners = agent.NewClient(conn).Signers
		}
	}
	// x/crypto/ssh tries each method name once, so the key file and the
	// agent's keys form one "publickey" method (key first); with no key
	// file the agent comes after the password, as the spec orders them.
	if len(signers) > 0 {
		d.auth = append(d.auth, gossh.PublicKeysCallback(func() ([]gossh.Signer, error) {
			if agentSigners == nil {
				return signers, nil
			}
			more, err := agentSigners()
			if err != nil {
				return signers, nil
			}
			return append(append([]gossh.Signer(nil), signers...), more...), nil
		}))
	}
	if o.password != "" {
		pw := o.password
		d.auth = append(d.auth, gossh.Password(pw),
			gossh.KeyboardInteractive(func(_, _ string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					if !echos[i] {
						answers[i] = pw
					}
				}
				return answers, nil
			}))
	}
	if len(signers) == 0 && agentSigners != nil {
		d.auth = append(d.auth, gossh.PublicKeysCallback(agentSigners))
	}
	if len(d.auth) == 0 {
		d.close()
		return nil, errors.New("no authentication method configured")
	}
	if !o.hostKeyCheck {
		d.hostKey = gossh.InsecureIgnoreHostKey()
		return d, nil
	}
	file := o.knownHostsFile
	cb, err := knownhosts.New(libkite.HostPath(knownHostsPath, file))
	if err != nil {
		d.close()
		return nil, fmt.Errorf("host key setup: failed to load known_hosts %q: %v "+
			"(add the host with `ssh-keyscan -H <host> >> %s`, or pass host_key_check=False to skip verification)",
			file, libkite.GivenPathError(err, file), file)
	}
	d.knownHosts = cb
	d.hostKey = func(hostname string, remote net.Addr, key gossh.PublicKey) error {
		if err := verifyHostKey(cb, file, hostname, remote, key); err != nil {
			return &permanentError{err}
		}
		return nil
	}
	return d, nil
}

// verifyHostKey checks key against the known_hosts callback and words the
// failure for a person.
func verifyHostKey(cb gossh.HostKeyCallback, file, hostname string, remote net.Addr, key gossh.PublicKey) error {
	err := cb(hostname, remote, key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return fmt.Errorf("unknown host %s (not in %s): add it with `ssh-keyscan -H` or pass host_key_check=False", hostname, file)
	case errors.As(err, &ke):
		return fmt.Errorf("host key mismatch for %s: the %s key it presented is not the one in %s (possible man-in-the-middle attack)",
			hostname, key.Type(), file)
	case errors.As(err, &re):
		return fmt.Errorf("host key for %s is revoked in %s", hostname, file)
	}
	return err
}

// permanentError marks a dial failure that another attempt cannot fix
// (host key rejected, authentication refused): it is not retried, so a
// wrong password fails at once instead of after 1+2+4 s of back-off.
type permanentError struct{ error }

func (e *permanentError) Unwrap() error { return e.error }

func (d *dialer) close() {
	if d.agentConn != nil {
		d.agentConn.Close()
	}
}

var (
	probeOnce sync.Once
	probeKey  gossh.PublicKey
)

// hostKeyAlgorithms lists the algorithms of the keys known_hosts holds
// for addr, so the server is asked for a key type we can verify (nil:
// none known, use the defaults).
func (d *dialer) hostKeyAlgorithms(addr string) []string {
	if d.knownHosts == nil {
		return nil
	}
	probeOnce.Do(func() {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		probeKey, _ = gossh.NewPublicKey(pub)
	})
	remote, _ := net.ResolveTCPAddr("tcp", addr)
	if remote == nil {
		remote = &net.TCPAddr{}
	}
	var ke *knownhosts.KeyError
	if err := d.knownHosts(addr, remote, probeKey); !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	add := func(a string) {
		if !seen[a] {
			seen[a] = true
			algos = append(algos, a)
		}
	}
	for _, k := range ke.Want {
		if t := k.Key.Type(); t == gossh.KeyAlgoRSA {
			add(gossh.KeyAlgoRSASHA512)
			add(gossh.KeyAlgoRSASHA256)
			add(gossh.KeyAlgoRSA)
		} else {
			add(t)
		}
	}
	return algos
}

func (d *dialer) config(addr string) *gossh.ClientConfig {
	return &gossh.ClientConfig{
		User:              d.opts.user,
		Auth:              d.auth,
		HostKeyCallback:   d.hostKey,
		HostKeyAlgorithms: d.hostKeyAlgorithms(addr),
	}
}

// conn is one established connection (through the jump host when set).
type conn struct {
	*gossh.Client
	jump   *gossh.Client
	stop   func() bool   // detaches the context watch
	done   chan struct{} // closed by Close: ends keep-alives
	closed sync.Once
}

// Close ends the operation's use of the connection: it stops watching
// the context and closes the connection and its jump hop.
func (c *conn) Close() error {
	c.stop()
	return c.shut()
}

// shut closes the connection and its jump hop (once).
func (c *conn) shut() error {
	var err error
	c.closed.Do(func() {
		close(c.done)
		err = c.Client.Close()
		if c.jump != nil {
			c.jump.Close()
		}
	})
	return err
}

// connect dials host, retrying max_retries times with doubling pauses
// (cut short by ctx). Cancelling ctx later closes the connection, which
// aborts whatever runs on it.
func (d *dialer) connect(ctx context.Context, host string) (*conn, error) {
	attempts := d.opts.maxRetries + 1
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			t := time.NewTimer(retryDelay << (i - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		c, err := d.dialOnce(ctx, host)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		last = err
		var pe *permanentError
		if errors.As(err, &pe) {
			attempts = i + 1
			break
		}
	}
	if attempts == 1 {
		return nil, fmt.Errorf("failed after 1 attempt: %w", last)
	}
	return nil, fmt.Errorf("failed after %d attempts: %w", attempts, last)
}

func (d *dialer) dialOnce(ctx context.Context, host string) (*conn, error) {
	addr, err := hostAddr(host, d.opts.port)
	if err != nil {
		return nil, err
	}
	c := &conn{done: make(chan struct{})}
	if d.opts.jumpHost == "" {
		if c.Client, err = d.dialDirect(ctx, addr); err != nil {
			return nil, fmt.Errorf("failed to connect to %s: %w", addr, err)
		}
	} else {
		jaddr, err := hostAddr(d.opts.jumpHost, d.opts.port)
		if err != nil {
			return nil, err
		}
		if c.jump, err = d.dialDirect(ctx, jaddr); err != nil {
			return nil, fmt.Errorf("failed to connect to jump host %s: %w", jaddr, err)
		}
		if c.Client, err = d.dialVia(ctx, c.jump, jaddr, addr); err != nil {
			c.jump.Close()
			return nil, err
		}
	}
	c.stop = context.AfterFunc(ctx, func() { c.shut() })
	d.keepAlive(c)
	return c, nil
}

// dialDirect opens TCP to addr and runs the SSH handshake, both within
// the timeout.
func (d *dialer) dialDirect(ctx context.Context, addr string) (*gossh.Client, error) {
	dctx, cancel := d.hopContext(ctx)
	defer cancel()
	var nd net.Dialer
	tcp, err := nd.DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			return nil, fmt.Errorf("dial tcp %s: timed out after %s", addr, d.opts.timeout)
		}
		return nil, err
	}
	return d.handshake(ctx, dctx, tcp, addr)
}

// dialVia tunnels from the jump host to addr and runs the SSH handshake
// over the tunnel, within the timeout.
func (d *dialer) dialVia(ctx context.Context, jump *gossh.Client, jaddr, addr string) (*gossh.Client, error) {
	dctx, cancel := d.hopContext(ctx)
	defer cancel()
	tunnel, err := jump.DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() == nil && dctx.Err() != nil {
			err = fmt.Errorf("timed out after %s", d.opts.timeout)
		}
		return nil, fmt.Errorf("failed to tunnel from %s to %s: %w", jaddr, addr, err)
	}
	cl, err := d.handshake(ctx, dctx, tunnel, addr)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to %s via jump host %s: %w", addr, jaddr, err)
	}
	return cl, nil
}

// hopContext bounds one hop (connect and handshake) by the timeout.
func (d *dialer) hopContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d.opts.timeout > 0 {
		return context.WithTimeout(ctx, d.opts.timeout)
	}
	return context.WithCancel(ctx)
}

// handshake runs the SSH client handshake on nc; dctx ending (timeout or
// cancellation) closes nc, which aborts it.
func (d *dialer) handshake(ctx, dctx context.Context, nc net.Conn, addr string) (*gossh.Client, error) {
	stop := context.AfterFunc(dctx, func() { nc.Close() })
	cc, chans, reqs, err := gossh.NewClientConn(nc, addr, d.config(addr))
	if !stop() { // dctx ended: nc is (being) closed
		if err == nil {
			cc.Close()
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("ssh handshake timed out after %s", d.opts.timeout)
	}
	if err != nil {
		nc.Close()
		var pe *permanentError
		if !errors.As(err, &pe) && strings.Contains(err.Error(), "unable to authenticate") {
			err = &permanentError{err}
		}
		return nil, err
	}
	return gossh.NewClient(cc, chans, reqs), nil
}

// keepAlive sends keepalive@openssh.com every interval while c is open and
// closes c after keep_alive_max consecutive failures (a request still
// unanswered at the next tick counts as failed).
func (d *dialer) keepAlive(c *conn) {
	interval, max := d.opts.keepAliveInterval, d.opts.keepAliveMax
	if interval <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		replies := make(chan error, 1)
		pending, fails := false, 0
		fail := func() bool {
			fails++
			if fails >= max {
				c.shut()
				return true
			}
			return false
		}
		for {
			select {
			case <-c.done:
				return
			case err := <-replies:
				pending = false
				if err == nil {
					fails = 0
				} else if fail() {
					return
				}
			case <-t.C:
				if pending {
					if fail() {
						return
					}
					continue
				}
				pending = true
				go func() {
					_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
					replies <- err
				}()
			}
		}
	}()
}
