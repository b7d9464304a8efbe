package cmd

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"go.starlark.net/starlark"
	"golang.org/x/term"
)

// lineInput is where the REPL reads its lines from.
type lineInput interface {
	// readLine returns the next line without its line ending, io.EOF at
	// the end of input, errLineInterrupted when Ctrl-C discarded the line.
	readLine(prompt string) (string, error)
	// terminal reports whether lines come from an interactive terminal.
	terminal() bool
	// close restores the terminal and saves the history.
	close()
}

// completer proposes a replacement for line with the cursor at pos (a
// byte offset), or the candidates to show when there is nothing to insert.
type completer func(line string, pos int) (newLine string, newPos int, show []string)

// newLineInput reads from in with line editing, history and completion
// when in and out are both terminals, else plainly (no prompts, no
// escape codes: piped input and captured output stay clean).
func newLineInput(in io.Reader, out, errw io.Writer, complete completer) lineInput {
	inF, ok1 := in.(*os.File)
	outF, ok2 := out.(*os.File)
	if ok1 && ok2 && term.IsTerminal(int(inF.Fd())) && term.IsTerminal(int(outF.Fd())) {
		return newTermInput(inF, outF, errw, complete)
	}
	return &plainInput{r: bufio.NewReader(in)}
}

// plainInput reads lines from a pipe or file.
type plainInput struct{ r *bufio.Reader }

func (p *plainInput) readLine(string) (string, error) {
	line, err := p.r.ReadString('\n')
	if err != nil && (line == "" || err != io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (p *plainInput) terminal() bool { return false }
func (p *plainInput) close()         {}

// ctrlCKey stands for Ctrl-C in the terminal's input. x/term's ReadLine
// reports Ctrl-C as io.EOF, like Ctrl-D on an empty line, so the keyboard
// rewrites the byte to this private-use rune followed by Enter: the rune
// reaches the key callback (which marks the line discarded and shows ^C)
// and Enter ends ReadLine.
const ctrlCKey = '\uE000'

// keyboard is the terminal's input with Ctrl-C rewritten (see ctrlCKey).
type keyboard struct {
	r       io.Reader
	pending []byte
	err     error
	buf     [256]byte
}

func (k *keyboard) Read(p []byte) (int, error) {
	if len(k.pending) == 0 {
		if k.err != nil {
			err := k.err
			k.err = nil
			return 0, err
		}
		n, err := k.r.Read(k.buf[:])
		if n == 0 {
			return 0, err
		}
		k.err = err
		k.pending = bytes.ReplaceAll(k.buf[:n], []byte{3}, []byte(string(ctrlCKey)+"\r"))
	}
	n := copy(p, k.pending)
	k.pending = k.pending[n:]
	return n, nil
}

// termInput edits lines on a terminal with golang.org/x/term. The
// terminal is raw only while a line is read: input runs with the
// terminal as the user left it, so its output and Ctrl-C (SIGINT) behave
// normally.
type termInput struct {
	in, out  *os.File
	t        *term.Terminal
	hist     *history
	complete completer

	mu     sync.Mutex
	saved  *term.State // the cooked state, while raw
	closed bool

	interrupted bool // Ctrl-C seen in the current line (reader goroutine only)
}

func newTermInput(in, out *os.File, errw io.Writer, complete completer) *termInput {
	ti := &termInput{in: in, out: out, complete: complete}
	ti.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{&keyboard{r: in}, out}, replPrompt)
	ti.hist = openHistory(errw, func() bool { return ti.interrupted })
	ti.t.History = ti.hist
	ti.t.AutoCompleteCallback = ti.onKey
	return ti
}

func (ti *termInput) terminal() bool { return true }

func (ti *termInput) readLine(prompt string) (string, error) {
	if err := ti.raw(); err != nil {
		return "", err
	}
	defer ti.cooked()
	if w, h, err := term.GetSize(int(ti.out.Fd())); err == nil && w > 0 && h > 0 {
		ti.t.SetSize(w, h) // a terminal that reports no size keeps 80x24
	}
	ti.t.SetPrompt(prompt)
	line, err := ti.t.ReadLine()
	if ti.interrupted {
		ti.interrupted = false
		return "", errLineInterrupted
	}
	if err == term.ErrPasteIndicator {
		err = nil
	}
	return line, err
}

func (ti *termInput) raw() error {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.closed {
		return io.EOF
	}
	st, err := term.MakeRaw(int(ti.in.Fd()))
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	ti.saved = st
	return nil
}

func (ti *termInput) cooked() {
	ti.mu.Lock()
	defer ti.mu.Unlock()
	if ti.saved != nil {
		_ = term.Restore(int(ti.in.Fd()), ti.saved)
		ti.saved = nil
	}
}

// close restores the terminal — whatever goroutine is still reading —
// and keeps it cooked for good.
func (ti *termInput) close() {
	ti.cooked()
	ti.mu.Lock()
	ti.closed = true
	ti.mu.Unlock()
	ti.hist.close()
}

// onKey is the terminal's key callback: Ctrl-C and Tab.
func (ti *termInput) onKey(line string, pos int, key rune) (string, int, bool) {
	switch key {
	case ctrlCKey:
		ti.interrupted = true
		return line + "^C", len(line) + 2, true
	case '\t':
		newLine, newPos, show := ti.complete(line, pos)
		if len(show) > 0 {
			ti.showCandidates(show)
		}
		if newLine == line {
			return "", 0, false
		}
		return newLine, newPos, true
	}
	return "", 0, false
}

// showCandidates prints completion candidates in columns above the
// prompt (the terminal redraws the prompt and line after it).
func (ti *termInput) showCandidates(names []string) {
	width := 80
	if w, _, err := term.GetSize(int(ti.out.Fd())); err == nil && w > 0 {
		width = w
	}
	col := 0
	for _, n := range names {
		if l := utf8.RuneCountInString(n) + 2; l > col {
			col = l
		}
	}
	perLine := max(1, width/col)
	var b strings.Builder
	for i, n := range names {
		if i > 0 && i%perLine == 0 {
			b.WriteString("\n")
		}
		if (i+1)%perLine == 0 || i == len(names)-1 {
			b.WriteString(n)
		} else {
			fmt.Fprintf(&b, "%-*s", col, n)
		}
	}
	b.WriteString("\n")
	_, _ = ti.t.Write([]byte(b.String()))
}

// historyMax is how many lines the history keeps, in memory and on disk.
const historyMax = 1000

// history is the terminal's line history, persisted to
// ~/.starkite/repl_history (directory 0700, file 0600): loaded at start,
// appended to as lines are entered, trimmed to the last historyMax lines.
type history struct {
	mu      sync.Mutex
	entries []string // oldest first
	skip    func() bool
	path    string
	f       *os.File // append handle; nil when not persisted
}

// openHistory loads the history file; problems are reported once on errw
// and leave the history in memory only.
func openHistory(errw io.Writer, skip func() bool) *history {
	h := &history{skip: skip}
	home, err := os.UserHomeDir()
	if err == nil {
		h.path = filepath.Join(home, ".starkite", "repl_history")
		err = h.load()
	}
	if err != nil {
		fmt.Fprintf(errw, "kite: REPL history not saved: %v\n", err)
		h.path, h.f = "", nil
	}
	return h
}

func (h *history) load() error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return err
	}
	lines, err := readHistoryFile(h.path)
	if err != nil {
		return err
	}
	if len(lines) > historyMax {
		lines = lines[len(lines)-historyMax:]
		if err := writeHistoryFile(h.path, lines); err != nil {
			return err
		}
	}
	h.entries = lines
	h.f, err = os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	return err
}

func readHistoryFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// writeHistoryFile replaces the file (write to a temporary file, rename).
func writeHistoryFile(path string, lines []string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".repl_history-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Add records a line entered at the prompt (not blank ones, repeats of
// the previous line or lines discarded with Ctrl-C).
func (h *history) Add(entry string) {
	if h.skip() || strings.TrimSpace(entry) == "" || strings.ContainsAny(entry, "\r\n") {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.entries); n > 0 && h.entries[n-1] == entry {
		return
	}
	h.entries = append(h.entries, entry)
	if len(h.entries) > historyMax {
		h.entries = h.entries[len(h.entries)-historyMax:]
	}
	if h.f != nil {
		_, _ = h.f.WriteString(entry + "\n")
	}
}

func (h *history) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// At returns the idx-th most recent entry (0 = the last one).
func (h *history) At(idx int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.entries[len(h.entries)-1-idx]
}

// close trims the file to the last historyMax lines (other sessions may
// have appended too) and closes it.
func (h *history) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.f == nil {
		return
	}
	h.f.Close()
	h.f = nil
	if lines, err := readHistoryFile(h.path); err == nil && len(lines) > historyMax {
		_ = writeHistoryFile(h.path, lines[len(lines)-historyMax:])
	}
}

// starlarkKeywords complete like names.
var starlarkKeywords = []string{"and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda", "load", "not", "or", "pass", "return", "while"}

// predeclared returns the names every input sees: the Starlark universe,
// the registry's modules and aliases, the runtime's own builtins and the
// REPL's exit — later entries winning, as in the runtime.
func (r *repl) predeclared() map[string]starlark.Value {
	names := map[string]starlark.Value{}
	for k, v := range starlark.Universe {
		names[k] = v
	}
	if pre, err := r.rt.Registry().Predeclared(); err == nil {
		for k, v := range pre {
			names[k] = v
		}
	}
	// libkite's runtime builtins: kept only if this runtime has them
	for _, k := range []string{"fail", "exit", "defer", "on_signal", "Result"} {
		if v, err := r.rt.Eval(context.Background(), k); err == nil {
			names[k] = v
		}
	}
	return names
}

// lookup finds a name as an input would: the session's bindings first.
func (r *repl) lookup(name string) (starlark.Value, bool) {
	if v, ok := r.rt.GetGlobalVal(name); ok {
		return v, true
	}
	v, ok := r.names[name]
	return v, ok
}

// complete completes the identifier or dotted name before the cursor:
// a global (binding, builtin, module, keyword) or, after "x.", a member of
// x. A unique match is inserted, several are extended to their common
// prefix or else shown. Tab in leading whitespace indents.
func (r *repl) complete(line string, pos int) (string, int, []string) {
	start := pos
	for start > 0 && (isNameByte(line[start-1]) || line[start-1] == '.') {
		start--
	}
	word := line[start:pos]
	if word == "" {
		if strings.TrimSpace(line[:pos]) == "" {
			return line[:pos] + "    " + line[pos:], pos + 4, nil
		}
		return line, pos, nil
	}
	var cands []string
	base, partial, dotted := cutLast(word, ".")
	if !dotted {
		partial = word
		seen := map[string]bool{}
		add := func(n string) {
			if !seen[n] && strings.HasPrefix(n, partial) {
				seen[n] = true
				cands = append(cands, n)
			}
		}
		for n := range r.rt.Globals() {
			add(n)
		}
		for n := range r.names {
			add(n)
		}
		for _, n := range starlarkKeywords {
			add(n)
		}
	} else {
		v, ok := r.resolveDotted(base)
		if !ok {
			return line, pos, nil
		}
		if ha, ok := v.(starlark.HasAttrs); ok {
			for _, n := range ha.AttrNames() {
				if strings.HasPrefix(n, partial) {
					cands = append(cands, n)
				}
			}
		}
	}
	if !strings.HasPrefix(partial, "_") { // private names only when asked for
		kept := cands[:0]
		for _, c := range cands {
			if !strings.HasPrefix(c, "_") {
				kept = append(kept, c)
			}
		}
		cands = kept
	}
	if len(cands) == 0 {
		return line, pos, nil
	}
	sort.Strings(cands)
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(partial) {
		ins := common[len(partial):]
		return line[:pos] + ins + line[pos:], pos + len(ins), nil
	}
	if len(cands) == 1 {
		return line, pos, nil
	}
	return line, pos, cands
}

// resolveDotted evaluates a dotted name (a.b.c) by lookups and attribute
// reads only: completion never calls functions.
func (r *repl) resolveDotted(dotted string) (starlark.Value, bool) {
	parts := strings.Split(dotted, ".")
	for _, p := range parts {
		if p == "" || !isName(p) {
			return nil, false
		}
	}
	v, ok := r.lookup(parts[0])
	if !ok {
		return nil, false
	}
	for _, p := range parts[1:] {
		ha, ok := v.(starlark.HasAttrs)
		if !ok {
			return nil, false
		}
		next, err := ha.Attr(p)
		if err != nil || next == nil {
			return nil, false
		}
		v = next
	}
	return v, true
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return "", s, false
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}
