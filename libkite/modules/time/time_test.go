package time_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

var kit = kitetest.Modules{kitetime.New}

// fixed is the reference instant of the spec's examples.
const fixed = `t = time.parse(time.RFC3339, "2026-03-11T14:30:00Z")`

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(time)`, Want: "module"},
		{Expr: `str(time)`, Want: `<module "time">`},
		{Name: "dir lists functions, constants and try_ twins", Expr: `" ".join(dir(time))`,
			Want: "DateOnly DateTime Kitchen RFC1123 RFC1123Z RFC3339 RFC3339Nano RFC822 RFC822Z RFC850 Stamp TimeOnly " +
				"duration format now parse since sleep try_duration try_format try_now try_parse try_since try_sleep try_until until"},
		{Expr: `time.RFC3339`, Want: "2006-01-02T15:04:05Z07:00"},
		{Expr: `time.RFC3339Nano`, Want: "2006-01-02T15:04:05.999999999Z07:00"},
		{Expr: `time.RFC1123`, Want: "Mon, 02 Jan 2006 15:04:05 MST"},
		{Expr: `time.RFC1123Z`, Want: "Mon, 02 Jan 2006 15:04:05 -0700"},
		{Expr: `time.RFC822`, Want: "02 Jan 06 15:04 MST"},
		{Expr: `time.RFC822Z`, Want: "02 Jan 06 15:04 -0700"},
		{Expr: `time.RFC850`, Want: "Monday, 02-Jan-06 15:04:05 MST"},
		{Expr: `time.Kitchen`, Want: "3:04PM"},
		{Expr: `time.Stamp`, Want: "Jan _2 15:04:05"},
		{Expr: `time.DateTime`, Want: "2006-01-02 15:04:05"},
		{Expr: `time.DateOnly`, Want: "2006-01-02"},
		{Expr: `time.TimeOnly`, Want: "15:04:05"},
		{Expr: `time.try_bogus`, Err: `module has no .try_bogus field or method`},
	})
}

func TestFunctions(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		// now
		{Expr: `type(time.now())`, Want: "time"},
		{Expr: `time.now(1)`, Err: "now takes no arguments"},
		{Expr: `time.now(x=1)`, Err: "now takes no arguments"},
		{Expr: `time.try_now(1)`, Want: `Result(ok=False, error="now takes no arguments")`},
		// sleep
		{Expr: `time.sleep("1ms")`, Want: "None"},
		{Expr: `time.sleep("0s")`, Want: "None"},
		{Expr: `time.sleep("-5h")`, Want: "None"},
		{Expr: `time.sleep(duration="0")`, Want: "None"},
		{Expr: `time.sleep("bad")`, Err: `time: invalid duration "bad"`},
		{Expr: `time.sleep("5")`, Err: `time: missing unit in duration "5"`},
		{Expr: `time.sleep(1)`, Err: "time.sleep: for parameter duration: got int, want string"},
		{Expr: `time.sleep()`, Err: "time.sleep: missing required argument: duration"},
		{Expr: `time.sleep("1s", "2s")`, Err: "time.sleep: unexpected positional argument at index 1"},
		{Expr: `time.sleep(d="1s")`, Err: "time.sleep: unknown keyword argument: d"},
		{Expr: `time.try_sleep("0s")`, Want: "Result(ok=True, value=None)"},
		// parse
		{Expr: `time.parse(time.RFC3339, "2024-06-15T10:30:00Z")`, Want: "2024-06-15T10:30:00Z"},
		{Expr: `time.parse("2006-01-02", "2024-06-15")`, Want: "2024-06-15T00:00:00Z"},
		{Name: "offset preserved", Pre: `t = time.parse(time.RFC3339, "2026-03-11T14:30:00+02:00")`,
			Expr: `(str(t), t.hour)`, Want: `("2026-03-11T14:30:00+02:00", 14)`},
		{Expr: `time.parse(layout="2006", value="1999").year`, Want: "1999"},
		{Expr: `time.parse(time.RFC3339, "nope")`,
			Err: `parsing time "nope" as "2006-01-02T15:04:05Z07:00": cannot parse "nope" as "2006"`},
		{Expr: `time.parse(time.RFC3339)`, Err: "time.parse: missing required argument: value"},
		{Expr: `time.parse(1, "x")`, Err: "time.parse: for parameter layout: got int, want string"},
		{Expr: `time.try_parse("2006", "x")`, Want: `Result(ok=False, error="parsing time \"x\" as \"2006\": cannot parse \"x\" as \"2006\"")`},
		// format
		{Pre: fixed, Expr: `time.format(t, time.RFC1123)`, Want: "Wed, 11 Mar 2026 14:30:00 UTC"},
		{Pre: fixed, Expr: `time.format(t, "2006-01-02")`, Want: "2026-03-11"},
		{Name: "format ignores presets", Pre: fixed, Expr: `time.format(t, "date")`, Want: "date"},
		{Name: "format extras ignored", Pre: fixed, Expr: `time.format(t, "15:04", 3, x=1)`, Want: "14:30"},
		{Pre: fixed, Expr: `time.format(t)`, Err: "format: expected 2 arguments (time, layout), got 1"},
		{Expr: `time.format()`, Err: "format: expected 2 arguments (time, layout), got 0"},
		{Expr: `time.format(1, "x")`, Err: "format: first argument must be a time value, got int"},
		{Pre: fixed, Expr: `time.format(t, None)`, Err: "format: second argument must be a string, got NoneType"},
		{Pre: fixed, Expr: `time.try_format(t, "2006")`, Want: `Result(ok=True, value="2026")`},
		// duration
		{Expr: `time.duration("1h30m")`, Want: "1h30m0s"},
		{Expr: `time.duration("1.5h")`, Want: "1h30m0s"},
		{Expr: `time.duration("-90s")`, Want: "-1m30s"},
		{Expr: `time.duration("300ms")`, Want: "300ms"},
		{Expr: `time.duration("1us") == time.duration("1µs")`, Want: "True"},
		{Expr: `time.duration("0")`, Want: "0s"},
		{Expr: `time.duration(value="2m")`, Want: "2m0s"},
		{Expr: `time.duration("bad")`, Err: `time: invalid duration "bad"`},
		{Expr: `time.duration(5)`, Err: "time.duration: for parameter value: got int, want string"},
		{Expr: `time.try_duration("x")`, Want: `Result(ok=False, error="time: invalid duration \"x\"")`},
		// since / until
		{Expr: `type(time.since(time.now()))`, Want: "duration"},
		{Expr: `time.since(time.now()) >= time.duration("0s")`, Want: "True"},
		{Pre: fixed, Expr: `time.until(t) < time.duration("0s")`, Want: "True"},
		{Expr: `time.since()`, Err: "since: expected 1 argument (time), got 0"},
		{Pre: fixed, Expr: `time.since(t, t)`, Err: "since: expected 1 argument (time), got 2"},
		{Expr: `time.since("x")`, Err: "since: argument must be a time value, got string"},
		{Expr: `time.until()`, Err: "until: expected 1 argument (time), got 0"},
		{Expr: `time.until(1)`, Err: "until: argument must be a time value, got int"},
		{Expr: `time.try_since(1).error`, Want: "since: argument must be a time value, got int"},
		{Expr: `time.try_until(1).ok`, Want: "False"},
	})
}

func TestSinceUntilFixedClock(t *testing.T) {
	restore := kitetime.SetClock(func() stdtime.Time { return stdtime.Date(2026, 3, 11, 14, 35, 30, 0, stdtime.UTC) })
	defer restore()
	kit.RunCases(t, nil, []kitetest.Case{
		{Pre: fixed, Expr: `time.since(t)`, Want: "5m30s"},
		{Pre: fixed, Expr: `time.until(t)`, Want: "-5m30s"},
		{Expr: `time.now()`, Want: "2026-03-11T14:35:30Z"},
	})
}

func TestNowIsLocalAndCurrent(t *testing.T) {
	before := stdtime.Now()
	v, err := kit.Runtime(t, nil).Eval(context.Background(), "time.now()")
	after := stdtime.Now()
	if err != nil {
		t.Fatal(err)
	}
	got := v.(kitetime.Time).Time()
	if got.Before(before) || got.After(after) {
		t.Fatalf("now() = %v, not within [%v, %v]", got, before, after)
	}
	if got.Location() != stdtime.Local {
		t.Fatalf("now() location = %v, want Local", got.Location())
	}
}

func TestTimeValue(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Pre: fixed, Expr: `type(t)`, Want: "time"},
		{Pre: fixed, Expr: `str(t)`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `repr(t)`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `bool(t)`, Want: "True"},
		{Pre: `t = time.parse("2006", "0001")`, Expr: `bool(t)`, Want: "True"},
		{Pre: fixed, Expr: `(t.year, t.month, t.day, t.hour, t.minute, t.second, t.weekday)`, Want: "(2026, 3, 11, 14, 30, 0, 3)"},
		{Pre: fixed, Expr: `(t.unix, t.unix_nano)`, Want: "(1773239400, 1773239400000000000)"},
		{Name: "dir", Pre: fixed, Expr: `" ".join(dir(t))`,
			Want: "add day hour minute month second string sub try_add try_string try_sub unix unix_nano weekday year"},
		{Pre: fixed, Expr: `t.nope`, Err: "time has no .nope field or method"},
		{Pre: fixed, Expr: `t.try_year`, Err: "time has no .try_year field or method", ErrContains: true},
		{Name: "hashable", Pre: fixed + "\nd = {t: 1}", Expr: `d[time.parse(time.RFC3339, "2026-03-11T16:30:00+02:00")]`, Want: "1"},
		// string()
		{Pre: fixed, Expr: `t.string()`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `t.string("")`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `t.string("rfc3339")`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `t.string("RFC3339")`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `t.string("rfc3339nano")`, Want: "2026-03-11T14:30:00Z"},
		{Pre: fixed, Expr: `t.string("kitchen")`, Want: "2:30PM"},
		{Pre: fixed, Expr: `t.string("Kitchen")`, Want: "2:30PM"},
		{Pre: fixed, Expr: `t.string("datetime")`, Want: "2026-03-11 14:30:00"},
		{Pre: fixed, Expr: `t.string("date")`, Want: "2026-03-11"},
		{Pre: fixed, Expr: `t.string(format="time")`, Want: "14:30:00"},
		{Pre: fixed, Expr: `t.string("stamp")`, Want: "Mar 11 14:30:00"},
		{Pre: fixed, Expr: `t.string("rfc822")`, Want: "11 Mar 26 14:30 UTC"},
		{Pre: fixed, Expr: `t.string("rfc1123")`, Want: "Wed, 11 Mar 2026 14:30:00 UTC"},
		{Pre: fixed, Expr: `t.string("rfc850")`, Want: "Wednesday, 11-Mar-26 14:30:00 UTC"},
		{Pre: fixed, Expr: `t.string("%Y/%m/%d %H:%M")`, Want: "2026/03/11 14:30"},
		{Pre: fixed, Expr: `t.string("%Y%%")`, Want: "2026%"},
		{Pre: fixed, Expr: `t.string("%I:%M:%S %p")`, Want: "02:30:00 PM"},
		{Pre: fixed, Expr: `t.string("%a %A %b %B")`, Want: "Wed Wednesday Mar March"},
		{Pre: fixed, Expr: `t.string("%Z %z")`, Want: "UTC +0000"},
		{Pre: fixed, Expr: `t.string("%j %Y")`, Want: "%j 2026"},
		{Pre: fixed, Expr: `t.string("%")`, Want: "%"},
		{Pre: fixed, Expr: `t.string("2006-01-02")`, Want: "2026-03-11"},
		{Pre: fixed, Expr: `t.string(1)`, Err: "time.string: for parameter format: got int, want string"},
		{Pre: fixed, Expr: `t.string("a", "b")`, Err: "time.string: got 2 arguments, want at most 1"},
		{Pre: fixed, Expr: `t.try_string("date")`, Want: `Result(ok=True, value="2026-03-11")`},
		// add()
		{Pre: fixed, Expr: `t.add("5m30s")`, Want: "2026-03-11T14:35:30Z"},
		{Pre: fixed, Expr: `t.add("-1h")`, Want: "2026-03-11T13:30:00Z"},
		{Pre: fixed, Expr: `t.add(duration="24h").day`, Want: "12"},
		{Pre: fixed, Expr: `t.add(time.duration("1h"))`, Err: "time.add: for parameter duration: got duration, want string"},
		{Pre: fixed, Expr: `t.add("x")`, Err: `time: invalid duration "x"`},
		{Pre: fixed, Expr: `t.add()`, Err: "time.add: missing argument for duration"},
		{Pre: fixed, Expr: `t.try_add(1).error`, Want: "time.add: for parameter duration: got int, want string"},
		// sub()
		{Pre: fixed + "\nt2 = t.add(\"5m30s\")", Expr: `t2.sub(t)`, Want: "5m30s"},
		{Pre: fixed + "\nt2 = t.add(\"5m30s\")", Expr: `(t2.sub(t).seconds, t2.sub(t).minutes)`, Want: "(330.0, 5.5)"},
		{Pre: fixed, Expr: `t.sub()`, Err: "sub: expected 1 argument (time), got 0"},
		{Pre: fixed, Expr: `t.sub(1)`, Err: "sub: argument must be a time value, got int"},
		{Pre: fixed, Expr: `t.try_sub(t)`, Want: "Result(ok=True, value=0s)"},
	})
}

func TestDurationValue(t *testing.T) {
	d := `d = time.duration("1h30m")`
	kit.RunCases(t, nil, []kitetest.Case{
		{Pre: d, Expr: `type(d)`, Want: "duration"},
		{Pre: d, Expr: `str(d)`, Want: "1h30m0s"},
		{Pre: d, Expr: `repr(d)`, Want: "1h30m0s"},
		{Expr: `str(time.duration("1h30m1ms"))`, Want: "1h30m0.001s"},
		{Expr: `str(time.duration("-1m"))`, Want: "-1m0s"},
		{Pre: d, Expr: `bool(d)`, Want: "True"},
		{Expr: `bool(time.duration("0s"))`, Want: "False"},
		{Pre: d, Expr: `(d.seconds, d.minutes, d.hours, d.milliseconds, d.nanoseconds)`,
			Want: "(5400.0, 90.0, 1.5, 5400000, 5400000000000)"},
		{Expr: `time.duration("1500us").milliseconds`, Want: "1"},
		{Expr: `time.duration("-1500us").milliseconds`, Want: "-1"},
		{Pre: d, Expr: `d.string()`, Want: "1h30m0s"},
		{Pre: d, Expr: `d.string(1)`, Err: "string takes no arguments"},
		{Pre: d, Expr: `d.try_string(x=1)`, Want: `Result(ok=False, error="string takes no arguments")`},
		{Pre: d, Expr: `" ".join(dir(d))`, Want: "hours milliseconds minutes nanoseconds seconds string try_string"},
		{Pre: d, Expr: `d.days`, Err: "duration has no .days field or method"},
		{Pre: d, Expr: `{d: 1}[time.duration("90m")]`, Want: "1"},
	})
}

func TestOperators(t *testing.T) {
	pre := fixed + "\nd = time.duration(\"90s\")\none = time.duration(\"1h\")"
	kit.RunCases(t, nil, []kitetest.Case{
		{Pre: pre, Expr: `t + d`, Want: "2026-03-11T14:31:30Z"},
		{Pre: pre, Expr: `d + t`, Want: "2026-03-11T14:31:30Z"},
		{Pre: pre, Expr: `t - d`, Want: "2026-03-11T14:28:30Z"},
		{Pre: pre, Expr: `type(t - d)`, Want: "time"},
		{Pre: pre, Expr: `(t + one) - t`, Want: "1h0m0s"},
		{Pre: pre, Expr: `t - (t + one)`, Want: "-1h0m0s"},
		{Pre: pre, Expr: `type(t - t)`, Want: "duration"},
		{Pre: pre, Expr: `d + d`, Want: "3m0s"},
		{Pre: pre, Expr: `d - one`, Want: "-58m30s"},
		{Pre: pre, Expr: `d * 2`, Want: "3m0s"},
		{Pre: pre, Expr: `2 * d`, Want: "3m0s"},
		{Pre: pre, Expr: `d * -1`, Want: "-1m30s"},
		{Pre: pre, Expr: `d * 0`, Want: "0s"},
		{Pre: pre, Expr: `d * 4294967296`, Err: "duration * int: 4294967296 out of 32-bit range"},
		{Expr: `time.duration("2000000h") * 2000000`, Err: "duration overflow"},
		{Expr: `time.duration("2000000h") + time.duration("2000000h")`, Err: "duration overflow"},
		{Expr: `time.duration("-2000000h") - time.duration("2000000h")`, Err: "duration overflow"},
		{Pre: pre, Expr: `t + 1`, Err: "unknown binary op: time + int"},
		{Pre: pre, Expr: `1 + t`, Err: "unknown binary op: int + time"},
		{Pre: pre, Expr: `t + t`, Err: "unknown binary op: time + time"},
		{Pre: pre, Expr: `d * 1.5`, Err: "unknown binary op: duration * float"},
		{Pre: pre, Expr: `d // 2`, Err: "unknown binary op: duration // int"},
		{Pre: pre, Expr: `d / 2`, Err: "unknown binary op: duration / int"},
		{Pre: pre, Expr: `d - t`, Err: "unknown binary op: duration - time"},
		{Pre: pre, Expr: `d * d`, Err: "unknown binary op: duration * duration"},
		{Pre: pre, Expr: `-d`, Err: "unknown unary op: - duration"},
		{Pre: pre, Expr: `t == time.parse(time.RFC3339, "2026-03-11T16:30:00+02:00")`, Want: "True"},
		{Pre: pre, Expr: `t != t + d`, Want: "True"},
		{Pre: pre, Expr: `(t < t + d, t <= t, t > t + d, t >= t - d)`, Want: "(True, True, False, True)"},
		{Expr: `time.duration("1h") == time.duration("60m")`, Want: "True"},
		{Pre: pre, Expr: `(d < one, d <= d, d > one, d >= one, d != one)`, Want: "(True, True, False, False, True)"},
		{Pre: pre, Expr: `t == d`, Want: "False"},
		{Pre: pre, Expr: `t < d`, Err: "time < duration not implemented"},
		{Pre: pre, Expr: `d < 1`, Err: "duration < int not implemented"},
	})
}

func TestSleepHonoursCancellation(t *testing.T) {
	started := make(chan struct{})
	reg := libkite.NewRegistry(nil)
	reg.Register(kitetime.New())
	rt, err := libkite.New(&libkite.Config{Registry: reg, NoSignals: true,
		Print: func(*starlark.Thread, string) { close(started) }})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Execute(ctx, "print('sleeping')\ntime.sleep(\"1h\")") }()
	<-started // the script is running; the sleep starts next
	cancel()
	select {
	case err := <-done:
		if err == nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-stdtime.After(time10s):
		t.Fatal("sleep did not return after cancellation")
	}
}

// time10s bounds a hang only; the test does not measure time.
const time10s = 10 * stdtime.Second

func TestSleepNotSwallowedByTry(t *testing.T) {
	rt := kit.Runtime(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := rt.Execute(ctx, `r = time.try_sleep("1h")`)
	if err == nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancellation", err)
	}
}

func TestStrftime(t *testing.T) {
	for in, want := range map[string]string{
		"%Y-%m-%d":      "2006-01-02",
		"%H:%M:%S":      "15:04:05",
		"%I %p":         "03 PM",
		"%a %A %b %B":   "Mon Monday Jan January",
		"%Z %z %% %j %": "MST -0700 % %j %",
		"plain":         "plain",
	} {
		if got := kitetime.Strftime(in); got != want {
			t.Errorf("Strftime(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGoValues(t *testing.T) {
	when := stdtime.Date(2026, 3, 11, 14, 30, 0, 0, stdtime.UTC)
	tv := kitetime.MakeTime(when)
	if !tv.Time().Equal(when) || tv.String() != "2026-03-11T14:30:00Z" {
		t.Fatalf("MakeTime round trip: %v", tv)
	}
	h1, _ := tv.Hash()
	h2, _ := kitetime.MakeTime(when.In(stdtime.FixedZone("X", 3600))).Hash()
	if h1 != h2 {
		t.Fatal("equal instants hash differently")
	}
	var v starlark.Value = kitetime.Duration(stdtime.Second)
	if v.String() != "1s" || v.Type() != "duration" {
		t.Fatalf("Duration = %v (%s)", v, v.Type())
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "time_test.star")
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: file})
	kitetest.RunConformance(t, rt, file, 12)
}

func TestErrorsAreNotPanics(t *testing.T) {
	// Extreme values must give errors or values, never crash the host.
	for _, expr := range []string{
		`time.parse("2006", "9999").add("2562047h")`,
		`time.parse("2006", "0001") - time.parse("2006", "9999")`,
		`time.duration("-2562047h47m16.854775808s") * -1`,
		`time.parse("2006", "2000") - time.duration("-2562047h47m16.854775808s")`,
	} {
		_, _, err := kit.Eval(t, nil, "", expr)
		if err != nil && strings.Contains(err.Error(), "panic") {
			t.Errorf("%s: %v", expr, err)
		}
	}
}
