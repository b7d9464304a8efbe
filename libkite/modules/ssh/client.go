package ssh

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// options is one ssh.config call after binding.
type options struct {
	hosts             []string
	user              string
	key               string // ~ expanded
	keyPassphrase     string
	password          string
	port              int
	timeout           time.Duration
	maxRetries        int
	linear            bool // exec_policy other than "concurrent"
	jumpHost          string
	knownHostsFile    string // ~ expanded
	hostKeyCheck      bool
	keepAliveInterval time.Duration
	keepAliveMax      int
	sudo              bool
	asUser            string
	cwd               string
	env               map[string]string
	dryRun            bool
}

// configBuiltin: ssh.config(**kwargs) → ssh.client. Keyword-only, strict
// except hosts and env (wrong types silently ignored). Checks
// ssh.connect:config. Does not connect.
func configBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		hostsV, envV                starlark.Value
		timeout, keepAlive          = "30s", "30s"
		maxRetries                  = 3
		keepAliveMax                = 3
		port                        = 22
		policy                      = "concurrent"
		knownHosts                  = "~/.ssh/known_hosts"
		o                           = options{hostKeyCheck: true}
		key, user, pass, passphrase string
	)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil,
		"hosts?", &hostsV, "user?", &user, "key?", &key, "key_passphrase?", &passphrase,
		"password?", &pass, "port?", &port, "timeout?", &timeout, "max_retries?", &maxRetries,
		"exec_policy?", &policy, "jump_host?", &o.jumpHost, "known_hosts_file?", &knownHosts,
		"host_key_check?", &o.hostKeyCheck, "keep_alive_interval?", &keepAlive,
		"keep_alive_max?", &keepAliveMax, "sudo?", &o.sudo, "as_user?", &o.asUser,
		"cwd?", &o.cwd, "env?", &envV, "dry_run?", &o.dryRun); err != nil {
		return nil, bindingError(err, args, nil)
	}
	if err := libkite.Check(thread, "ssh", "connect", "config", ""); err != nil {
		return nil, err
	}
	o.user, o.password, o.keyPassphrase = user, pass, passphrase
	o.key, o.knownHostsFile = expandHome(key), expandHome(knownHosts)
	o.linear = policy != "concurrent"
	if list, ok := hostsV.(*starlark.List); ok {
		for i := 0; i < list.Len(); i++ {
			if s, ok := list.Index(i).(starlark.String); ok {
				o.hosts = append(o.hosts, string(s))
			}
		}
	}
	o.env = stringDict(envV)
	if port <= 0 {
		port = 22
	}
	if port > 65535 {
		return nil, fmt.Errorf("ssh.config: invalid port %d", port)
	}
	o.port = port
	if maxRetries < 0 {
		maxRetries = 3
	}
	o.maxRetries = maxRetries
	if keepAliveMax <= 0 {
		keepAliveMax = 3
	}
	o.keepAliveMax = keepAliveMax
	var err error
	if o.timeout, err = time.ParseDuration(timeout); err != nil {
		return nil, fmt.Errorf("ssh.config: invalid timeout %q: %v", timeout, err)
	}
	if o.keepAliveInterval, err = time.ParseDuration(keepAlive); err != nil {
		return nil, fmt.Errorf("ssh.config: invalid keep_alive_interval %q: %v", keepAlive, err)
	}
	for _, h := range o.hosts {
		if _, err := hostAddr(h, o.port); err != nil {
			return nil, fmt.Errorf("ssh.config: %v", err)
		}
	}
	if o.jumpHost != "" {
		if _, err := hostAddr(o.jumpHost, o.port); err != nil {
			return nil, fmt.Errorf("ssh.config: jump_host: %v", err)
		}
	}
	return &Client{opts: o}, nil
}

// stringDict extracts the string entries of a dict; any other value (or
// none) gives an empty map.
func stringDict(v starlark.Value) map[string]string {
	out := map[string]string{}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return out
	}
	for _, kv := range d.Items() {
		k, kok := kv[0].(starlark.String)
		val, vok := kv[1].(starlark.String)
		if kok && vok {
			out[string(k)] = string(val)
		}
	}
	return out
}

// bindingError rewords starlark.UnpackArgs' conversion errors into the
// struct-binding form: `for parameter port: got string, want int` →
// `keyword arg 'port': got string, want int` (or `positional arg N: …`
// when that parameter, named in positional, came positionally).
func bindingError(err error, args starlark.Tuple, positional []string) error {
	head, rest, found := strings.Cut(err.Error(), ": for parameter ")
	if !found {
		return err
	}
	param, tail, found := strings.Cut(rest, ":")
	if !found {
		return err
	}
	param = strings.Trim(param, `"`)
	for i, name := range positional {
		if name == param && i < len(args) {
			return fmt.Errorf("%s: positional arg %d:%s", head, i, tail)
		}
	}
	return fmt.Errorf("%s: keyword arg '%s':%s", head, param, tail)
}

// expandHome expands a leading "~" or "~/" to the user's home directory.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, p[1:])
}

// hostAddr is the dial address of a configured host: "h" and "[v6]" get
// port; "h:p" and "[v6]:p" keep theirs; a bare IPv6 address ("::1") is
// bracketed.
func hostAddr(host string, port int) (string, error) {
	bad := func(why string) error { return fmt.Errorf("invalid host %q: %s", host, why) }
	if host == "" {
		return "", bad("empty host")
	}
	if strings.ContainsAny(host, " \t\r\n/@") {
		return "", bad("unexpected character")
	}
	defPort := strconv.Itoa(port)
	if strings.HasPrefix(host, "[") {
		end := strings.IndexByte(host, ']')
		if end < 0 {
			return "", bad("missing ']'")
		}
		ip, rest := host[1:end], host[end+1:]
		if ip == "" {
			return "", bad("empty address")
		}
		switch {
		case rest == "":
			return net.JoinHostPort(ip, defPort), nil
		case strings.HasPrefix(rest, ":"):
			if err := checkPort(rest[1:]); err != nil {
				return "", bad(err.Error())
			}
			return net.JoinHostPort(ip, rest[1:]), nil
		}
		return "", bad("unexpected text after ']'")
	}
	switch strings.Count(host, ":") {
	case 0:
		return net.JoinHostPort(host, defPort), nil
	case 1:
		h, p, _ := strings.Cut(host, ":")
		if h == "" {
			return "", bad("empty host name")
		}
		if err := checkPort(p); err != nil {
			return "", bad(err.Error())
		}
		return net.JoinHostPort(h, p), nil
	}
	if net.ParseIP(host) == nil {
		return "", bad("use [address]:port for IPv6 with a port")
	}
	return net.JoinHostPort(host, defPort), nil
}

func checkPort(p string) error {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return errors.New("invalid port " + strconv.Quote(p))
	}
	return nil
}

// Client is the ssh.client value: the settings of one ssh.config call.
// Every exec/upload/download dials each host afresh.
type Client struct {
	opts options
}

var _ starlark.HasAttrs = (*Client)(nil)

var clientMethods = libkite.Methods{
	"exec":     execMethod,
	"upload":   uploadMethod,
	"download": downloadMethod,
}

func (c *Client) String() string        { return fmt.Sprintf("<ssh.client hosts=%v>", c.opts.hosts) }
func (c *Client) Type() string          { return "ssh.client" }
func (c *Client) Freeze()               {}
func (c *Client) Truth() starlark.Bool  { return len(c.opts.hosts) > 0 }
func (c *Client) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ssh.client") }
func (c *Client) AttrNames() []string   { return clientMethods.Names("hosts") }

func (c *Client) Attr(name string) (starlark.Value, error) {
	if name == "hosts" {
		l := make([]starlark.Value, len(c.opts.hosts))
		for i, h := range c.opts.hosts {
			l[i] = starlark.String(h)
		}
		return starlark.NewList(l), nil
	}
	return clientMethods.Attr(c, "ssh.client", name), nil
}

// Hosts returns the configured hosts, in order.
func (c *Client) Hosts() []string { return append([]string(nil), c.opts.hosts...) }

// dryRun reports whether calls on thread only simulate.
func (c *Client) dryRun(thread *starlark.Thread) bool {
	return c.opts.dryRun || libkite.DryRun(thread)
}
