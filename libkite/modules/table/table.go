// Package table is kite's table module (spec/table.md): plain-text column
// tables built row by row and rendered in a borderless layout.
package table

import (
	"fmt"
	"strings"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the table module (no try_ forms, as in the reference).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "table",
		Doc: "Plain-text column tables",
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"new":   starlark.NewBuiltin("table.new", newTable),
				"print": starlark.NewBuiltin("table.print", printTable),
			}
		},
	}
}

// new(headers, /) → table. headers must be a list of str; keywords are
// ignored (so headers= counts as a missing argument).
func newTable(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("new: expected 1 argument (headers), got %d", len(args))
	}
	l, ok := args[0].(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("new: argument must be a list, got %s", args[0].Type())
	}
	headers := make([]string, l.Len())
	for i := range headers {
		s, ok := l.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("headers must be strings")
		}
		headers[i] = string(s)
	}
	return NewTable(headers), nil
}

// print(tbl, /) → None: writes tbl.render() through the runtime's output
// (stdout unless the host captures output), no newline added.
func printTable(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("print: expected 1 argument (table), got %d", len(args))
	}
	t, ok := args[0].(*Table)
	if !ok {
		return nil, fmt.Errorf("print: argument must be a table, got %s", args[0].Type())
	}
	libkite.WriteText(thread, t.Render())
	return starlark.None, nil
}

// Table is a Starlark `table`: headers plus rows of cell text. It is
// mutable until frozen and safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	headers []string
	rows    [][]string
	frozen  bool
}

var _ starlark.HasAttrs = (*Table)(nil)

// NewTable returns an empty table with these column headers.
func NewTable(headers []string) *Table { return &Table{headers: headers} }

var tableMethods = libkite.Methods{
	"add_row": addRow,
	"render":  render,
}

func (t *Table) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fmt.Sprintf("<table %d cols, %d rows>", len(t.headers), len(t.rows))
}

func (t *Table) Type() string { return "table" }

func (t *Table) Freeze() {
	t.mu.Lock()
	t.frozen = true
	t.mu.Unlock()
}

func (t *Table) Truth() starlark.Bool { return t.RowCount() > 0 }

func (t *Table) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: table") }

func (t *Table) Attr(name string) (starlark.Value, error) {
	if name == "row_count" {
		return starlark.MakeInt(t.RowCount()), nil
	}
	if fn, ok := tableMethods[name]; ok { // no try_ twins (table.md)
		return starlark.NewBuiltin("table."+name, fn).BindReceiver(t), nil
	}
	return nil, nil
}

func (t *Table) AttrNames() []string { return []string{"add_row", "render", "row_count"} }

// RowCount is the number of rows added.
func (t *Table) RowCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.rows)
}

// AddRow appends a row of cell texts. A row may be shorter than the
// headers but not longer.
func (t *Table) AddRow(cells []string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(cells) > len(t.headers) {
		return fmt.Errorf("add_row: got %d values, table has %d columns", len(cells), len(t.headers))
	}
	if t.frozen {
		return fmt.Errorf("add_row: cannot modify frozen table")
	}
	t.rows = append(t.rows, cells)
	return nil
}

// add_row(*values) → None. Strings are used as is, other values by str();
// keywords are ignored.
func addRow(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	cells := make([]string, len(args))
	for i, v := range args {
		if s, ok := v.(starlark.String); ok {
			cells[i] = string(s)
		} else {
			cells[i] = v.String()
		}
	}
	if err := fn.Receiver().(*Table).AddRow(cells); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// render() → str.
func render(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(fn.Receiver().(*Table).Render()), nil
}

// Render lays the table out (table.md): a header line, a rule of '-'
// joined by "-+-", then one line per row; cells joined by " | " and each
// right-padded to its column's width. Widths are display widths
// (DisplayWidth), equal to byte lengths for ASCII text.
func (t *Table) Render() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	widths := make([]int, len(t.headers))
	for i, h := range t.headers {
		widths[i] = DisplayWidth(h)
	}
	n := 0
	for _, row := range t.rows {
		n += len(row)
	}
	cellW := make([]int, 0, n) // display width of every cell, row by row
	size := 0
	for _, row := range t.rows {
		for i, c := range row {
			w := DisplayWidth(c)
			cellW = append(cellW, w)
			widths[i] = max(widths[i], w)
			size += len(c)
		}
	}
	lineW := 0
	for _, w := range widths {
		lineW += w + 3
	}
	var b strings.Builder
	b.Grow(size + (len(t.rows)+2)*(lineW+1) + 64)
	for i, h := range t.headers {
		writeCell(&b, i, h, widths[i]-DisplayWidth(h))
	}
	b.WriteByte('\n')
	for i, w := range widths {
		if i > 0 {
			b.WriteString("-+-")
		}
		writeRepeat(&b, '-', w)
	}
	b.WriteByte('\n')
	k := 0
	for _, row := range t.rows {
		for i, c := range row {
			writeCell(&b, i, c, widths[i]-cellW[k])
			k++
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeCell(b *strings.Builder, col int, text string, pad int) {
	if col > 0 {
		b.WriteString(" | ")
	}
	b.WriteString(text)
	writeRepeat(b, ' ', pad)
}

const (
	spaces = "                                "
	dashes = "--------------------------------"
)

// writeRepeat writes n copies of c (' ' or '-').
func writeRepeat(b *strings.Builder, c byte, n int) {
	run := spaces
	if c == '-' {
		run = dashes
	}
	for n > len(run) {
		b.WriteString(run)
		n -= len(run)
	}
	if n > 0 {
		b.WriteString(run[:n])
	}
}
