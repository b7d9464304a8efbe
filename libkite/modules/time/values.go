package time

import (
	"errors"
	"fmt"
	"math"
	"strings"
	stdtime "time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
)

// Time is a Starlark `time` value: an instant with its zone. It is
// immutable, hashable (by Unix nanoseconds) and compares by instant.
type Time struct{ t stdtime.Time }

// MakeTime wraps t.
func MakeTime(t stdtime.Time) Time { return Time{t} }

// Time returns the wrapped Go time.
func (t Time) Time() stdtime.Time { return t.t }

var (
	_ starlark.HasAttrs   = Time{}
	_ starlark.HasBinary  = Time{}
	_ starlark.Comparable = Time{}
)

var timeMethods = libkite.Methods{
	"string": timeString,
	"add":    timeAdd,
	"sub":    timeSub,
}

var timeProps = []string{"day", "hour", "minute", "month", "second", "unix", "unix_nano", "weekday", "year"}

func (t Time) String() string        { return t.t.Format(stdtime.RFC3339) }
func (t Time) Type() string          { return "time" }
func (t Time) Freeze()               {}
func (t Time) Truth() starlark.Bool  { return true }
func (t Time) Hash() (uint32, error) { return hash64(t.t.UnixNano()), nil }

func (t Time) Attr(name string) (starlark.Value, error) {
	switch name {
	case "year":
		return starlark.MakeInt(t.t.Year()), nil
	case "month":
		return starlark.MakeInt(int(t.t.Month())), nil
	case "day":
		return starlark.MakeInt(t.t.Day()), nil
	case "hour":
		return starlark.MakeInt(t.t.Hour()), nil
	case "minute":
		return starlark.MakeInt(t.t.Minute()), nil
	case "second":
		return starlark.MakeInt(t.t.Second()), nil
	case "weekday":
		return starlark.MakeInt(int(t.t.Weekday())), nil
	case "unix":
		return starlark.MakeInt64(t.t.Unix()), nil
	case "unix_nano":
		return starlark.MakeInt64(t.t.UnixNano()), nil
	}
	return timeMethods.Attr(t, "time", name), nil
}

func (t Time) AttrNames() []string { return timeMethods.Names(timeProps...) }

func (t Time) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	return compare(op, t.t.Compare(y.(Time).t))
}

// Binary: time ± duration → time, time − time → duration.
func (t Time) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch op {
	case syntax.PLUS:
		if d, ok := y.(Duration); ok {
			return Time{t.t.Add(stdtime.Duration(d))}, nil
		}
	case syntax.MINUS:
		if side == starlark.Right {
			return nil, nil // x − time with x not a time
		}
		switch y := y.(type) {
		case Duration:
			return Time{subDuration(t.t, stdtime.Duration(y))}, nil
		case Time:
			return Duration(t.t.Sub(y.t)), nil
		}
	}
	return nil, nil
}

// subDuration is t − d without overflowing on the most negative duration.
func subDuration(t stdtime.Time, d stdtime.Duration) stdtime.Time {
	if d == math.MinInt64 {
		return t.Add(math.MaxInt64).Add(1)
	}
	return t.Add(-d)
}

// t.string(format="") → str; see resolveLayout.
func timeString(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := ""
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "format?", &f); err != nil {
		return nil, err
	}
	return starlark.String(fn.Receiver().(Time).t.Format(resolveLayout(f))), nil
}

// t.add(duration) → time; duration must be a duration string.
func timeAdd(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "duration", &s); err != nil {
		return nil, err
	}
	d, err := stdtime.ParseDuration(s)
	if err != nil {
		return nil, err
	}
	return Time{fn.Receiver().(Time).t.Add(d)}, nil
}

// t.sub(other) → duration self − other.
func timeSub(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	o, err := oneTime("sub", args)
	if err != nil {
		return nil, err
	}
	return Duration(fn.Receiver().(Time).t.Sub(o.t)), nil
}

// presets are the case-insensitive names t.string() understands.
var presets = map[string]string{
	"rfc3339":     stdtime.RFC3339,
	"rfc3339nano": stdtime.RFC3339Nano,
	"kitchen":     stdtime.Kitchen,
	"datetime":    stdtime.DateTime,
	"date":        stdtime.DateOnly,
	"time":        stdtime.TimeOnly,
	"stamp":       stdtime.Stamp,
	"rfc822":      stdtime.RFC822,
	"rfc1123":     stdtime.RFC1123,
	"rfc850":      stdtime.RFC850,
}

// resolveLayout maps t.string's format to a Go layout: "" → RFC3339, a
// preset name (any case), strftime text when it holds '%', else the
// string itself as a Go layout.
func resolveLayout(f string) string {
	if f == "" {
		return stdtime.RFC3339
	}
	if l, ok := presets[strings.ToLower(f)]; ok {
		return l
	}
	if strings.Contains(f, "%") {
		return Strftime(f)
	}
	return f
}

var strftimeDirectives = map[byte]string{
	'Y': "2006", 'm': "01", 'd': "02", 'H': "15", 'I': "03", 'M': "04", 'S': "05",
	'p': "PM", 'a': "Mon", 'A': "Monday", 'b': "Jan", 'B': "January",
	'Z': "MST", 'z': "-0700", '%': "%",
}

// Strftime translates strftime directives in f into a Go layout. Unknown
// directives (and a trailing lone '%') are kept as written.
func Strftime(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] == '%' && i+1 < len(f) {
			if l, ok := strftimeDirectives[f[i+1]]; ok {
				b.WriteString(l)
				i++
				continue
			}
		}
		b.WriteByte(f[i])
	}
	return b.String()
}

// Duration is a Starlark `duration` value (Go time.Duration semantics).
type Duration stdtime.Duration

var (
	_ starlark.HasAttrs   = Duration(0)
	_ starlark.HasBinary  = Duration(0)
	_ starlark.Comparable = Duration(0)
)

var durationMethods = libkite.Methods{"string": durationString}

var durationProps = []string{"hours", "milliseconds", "minutes", "nanoseconds", "seconds"}

func (d Duration) String() string        { return stdtime.Duration(d).String() }
func (d Duration) Type() string          { return "duration" }
func (d Duration) Freeze()               {}
func (d Duration) Truth() starlark.Bool  { return d != 0 }
func (d Duration) Hash() (uint32, error) { return hash64(int64(d)), nil }

func (d Duration) Attr(name string) (starlark.Value, error) {
	gd := stdtime.Duration(d)
	switch name {
	case "seconds":
		return starlark.Float(gd.Seconds()), nil
	case "minutes":
		return starlark.Float(gd.Minutes()), nil
	case "hours":
		return starlark.Float(gd.Hours()), nil
	case "milliseconds":
		return starlark.MakeInt64(gd.Milliseconds()), nil
	case "nanoseconds":
		return starlark.MakeInt64(int64(gd)), nil
	}
	return durationMethods.Attr(d, "duration", name), nil
}

func (d Duration) AttrNames() []string { return durationMethods.Names(durationProps...) }

func (d Duration) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	e := y.(Duration)
	c := 0
	if d < e {
		c = -1
	} else if d > e {
		c = 1
	}
	return compare(op, c)
}

var errOverflow = errors.New("duration overflow")

// Binary: duration ± duration, duration + time, duration × int32.
func (d Duration) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	switch op {
	case syntax.PLUS:
		switch y := y.(type) {
		case Duration:
			s := d + y
			if (s > d) != (y > 0) {
				return nil, errOverflow
			}
			return s, nil
		case Time:
			return Time{y.t.Add(stdtime.Duration(d))}, nil
		}
	case syntax.MINUS:
		if e, ok := y.(Duration); ok {
			x, z := d, e
			if side == starlark.Right {
				x, z = e, d
			}
			s := x - z
			if (s < x) != (z > 0) {
				return nil, errOverflow
			}
			return s, nil
		}
	case syntax.STAR:
		n, ok := y.(starlark.Int)
		if !ok {
			return nil, nil
		}
		m, ok := n.Int64()
		if !ok || m < math.MinInt32 || m > math.MaxInt32 {
			return nil, fmt.Errorf("duration * int: %s out of 32-bit range", n)
		}
		p := int64(d) * m
		if m != 0 && (p/m != int64(d) || (m == -1 && d == math.MinInt64)) {
			return nil, errOverflow
		}
		return Duration(p), nil
	}
	return nil, nil
}

// d.string() → Go duration text.
func durationString(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs("string", args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(fn.Receiver().(Duration).String()), nil
}

// compare answers a comparison op from a three-way result c.
func compare(op syntax.Token, c int) (bool, error) {
	switch op {
	case syntax.EQL:
		return c == 0, nil
	case syntax.NEQ:
		return c != 0, nil
	case syntax.LT:
		return c < 0, nil
	case syntax.LE:
		return c <= 0, nil
	case syntax.GT:
		return c > 0, nil
	case syntax.GE:
		return c >= 0, nil
	}
	return false, fmt.Errorf("unsupported comparison %s", op)
}

func hash64(n int64) uint32 { return uint32(n) ^ uint32(uint64(n)>>32) }
