package sql

import (
	"database/sql"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// bindArgs converts a call's SQL parameters to driver values: positional
// params bind to ?, ?NNN; keyword params bind by name to :name, @name and
// $name. Values are always bound, never spliced into the SQL text.
func bindArgs(params starlark.Tuple, named []starlark.Tuple) ([]any, error) {
	out := make([]any, 0, len(params)+len(named))
	for i, p := range params {
		v, err := toDriver(p)
		if err != nil {
			return nil, fmt.Errorf("cannot bind parameter %d %s", i+1, err)
		}
		out = append(out, v)
	}
	for _, kv := range named {
		name := string(kv[0].(starlark.String))
		v, err := toDriver(kv[1])
		if err != nil {
			return nil, fmt.Errorf("cannot bind parameter %q %s", name, err)
		}
		out = append(out, sql.Named(name, v))
	}
	return out, nil
}

// timeValue is a Starlark value wrapping a Go time (the time module's
// time type): it binds as RFC 3339 text.
type timeValue interface{ Time() time.Time }

// toDriver maps None→NULL, bool, int (64-bit), float, str, bytes→BLOB and
// time values→RFC 3339 text; the error completes "cannot bind parameter N".
func toDriver(v starlark.Value) (any, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.Int:
		n, ok := v.Int64()
		if !ok {
			return nil, fmt.Errorf("(int %s out of 64-bit range)", v)
		}
		return n, nil
	case starlark.Float:
		return float64(v), nil
	case starlark.String:
		return string(v), nil
	case starlark.Bytes:
		return []byte(v), nil
	case timeValue:
		return v.Time().Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("of type %s", v.Type())
}

// columns names a result's columns: a name already taken by an earlier
// column gets the first free suffix _2, _3, ... (select a.id, b.id → id,
// id_2), so every column keeps its own dict key.
func columns(names []string) []starlark.String {
	out := make([]starlark.String, len(names))
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		name := n
		for k := 2; seen[name]; k++ {
			name = n + "_" + strconv.Itoa(k)
		}
		seen[name] = true
		out[i] = starlark.String(name)
	}
	return out
}

// colKind is how a column's values convert beyond their driver type.
type colKind uint8

const (
	plainCol colKind = iota
	boolCol          // declared BOOL/BOOLEAN: integers read back as bool
	textCol          // declared character type: []byte reads back as str
)

func columnKinds(types []*sql.ColumnType) []colKind {
	kinds := make([]colKind, len(types))
	for i, ct := range types {
		t := strings.ToUpper(ct.DatabaseTypeName())
		switch {
		case t == "BOOL" || t == "BOOLEAN":
			kinds[i] = boolCol
		case strings.Contains(t, "CHAR") || strings.Contains(t, "TEXT") || strings.Contains(t, "CLOB") ||
			t == "JSON" || t == "UUID" || t == "ENUM":
			kinds[i] = textCol
		}
	}
	return kinds
}

// fromDriver maps a scanned value to Starlark: NULL→None, integers→int,
// reals→float, text→str, blobs→bytes, times→RFC 3339 str.
func fromDriver(v any, kind colKind) starlark.Value {
	switch v := v.(type) {
	case nil:
		return starlark.None
	case int64:
		if kind == boolCol {
			return starlark.Bool(v != 0)
		}
		return starlark.MakeInt64(v)
	case float64:
		return starlark.Float(v)
	case string:
		return starlark.String(v)
	case []byte:
		if kind == textCol {
			return starlark.String(v)
		}
		return starlark.Bytes(v)
	case bool:
		return starlark.Bool(v)
	case time.Time:
		return starlark.String(v.Format(time.RFC3339Nano))
	case int:
		return starlark.MakeInt(v)
	case int32:
		return starlark.MakeInt64(int64(v))
	case uint64:
		return starlark.MakeBigInt(new(big.Int).SetUint64(v))
	case float32:
		return starlark.Float(v)
	}
	return starlark.String(fmt.Sprint(v))
}

// readRows drains rows into a list of dicts (keys in column order); with
// one set, it stops after the first row and returns it (None if there is
// none).
func readRows(rows *sql.Rows, one bool) (starlark.Value, error) {
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	keys, kinds := columns(names), columnKinds(types)
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var list []starlark.Value
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		d := starlark.NewDict(len(keys))
		for i, k := range keys {
			_ = d.SetKey(k, fromDriver(vals[i], kinds[i]))
			vals[i] = nil
		}
		if one {
			return d, rows.Close()
		}
		list = append(list, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if one {
		return starlark.None, nil
	}
	return starlark.NewList(list), nil
}
