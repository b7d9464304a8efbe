package sql

import (
	"errors"
	"strings"
)

// A light SQL scanner finds where each statement of a call's SQL text
// starts, to refuse two kinds of statement the module cannot allow:
//
//   - transaction control through db (BEGIN, COMMIT, ROLLBACK, END,
//     SAVEPOINT, RELEASE): the pool would hand the connection, with its
//     transaction still open, to whichever call comes next; inside a tx,
//     BEGIN/COMMIT/END/ROLLBACK would end it behind database/sql's back
//     (SAVEPOINT, RELEASE and ROLLBACK TO are fine there);
//   - ATTACH with a file name that is not a literal: SQLite's authorizer
//     sees a parameter or expression as NULL, which the driver cannot tell
//     from the temporary database '', so such a file could not be checked.

var (
	errAttachParam = errors.New("ATTACH needs the database file as a literal name (it is checked against the permissions), not a parameter or expression")
	errTxStatement = errors.New("transaction statements (BEGIN, COMMIT, ROLLBACK, END, SAVEPOINT, RELEASE) cannot run through a database: use db.begin() or db.transaction(fn)")
	errTxEnd       = errors.New("BEGIN, COMMIT, END and ROLLBACK cannot run inside a transaction: use tx.commit() or tx.rollback()")
)

// checkStatements applies the rules above to query, run on a database
// (inTx false) or in a transaction.
func checkStatements(query string, inTx bool) error {
	sc := newHeadScanner(query)
	for {
		head, ok := sc.next()
		if !ok {
			return nil
		}
		if len(head) > 0 && head[0].isWord("EXPLAIN") {
			head = head[1:]
			if len(head) > 1 && head[0].isWord("QUERY") && head[1].isWord("PLAN") {
				head = head[2:]
			}
		}
		if len(head) == 0 || head[0].kind != 'w' {
			continue
		}
		switch strings.ToUpper(head[0].text) {
		case "ATTACH":
			i := 1
			if len(head) > i && head[i].isWord("DATABASE") {
				i++
			}
			if len(head) < i+2 || !head[i].literal() || !head[i+1].isWord("AS") {
				return errAttachParam
			}
		case "BEGIN", "COMMIT", "END":
			return txError(inTx)
		case "ROLLBACK":
			if !inTx || !rollbackTo(head) {
				return txError(inTx)
			}
		case "SAVEPOINT", "RELEASE":
			if !inTx {
				return errTxStatement
			}
		}
	}
}

func txError(inTx bool) error {
	if inTx {
		return errTxEnd
	}
	return errTxStatement
}

// rollbackTo: ROLLBACK [TRANSACTION] TO ...
func rollbackTo(head []token) bool {
	i := 1
	if len(head) > i && head[i].isWord("TRANSACTION") {
		i++
	}
	return len(head) > i && head[i].isWord("TO")
}

// changesRows reports whether query's first statement can change rows:
// INSERT, UPDATE, DELETE, REPLACE or WITH.
func changesRows(query string) bool {
	lx := lexer{s: query}
	t, _ := lx.next()
	for t.text == ";" {
		t, _ = lx.next()
	}
	switch strings.ToUpper(t.text) {
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH":
		return t.kind == 'w'
	}
	return false
}

// headLen is how many leading tokens of a statement the rules look at.
const headLen = 6

// headScanner yields the first tokens of every statement of a query
// (statements split at ';' outside literals, comments and trigger
// bodies), without allocating.
type headScanner struct {
	lx       lexer
	lastSemi int
	state    uint8
	buf      [headLen]token
}

const (
	collecting = iota
	inTrigger  // inside CREATE TRIGGER ... BEGIN ... END
	skipping   // the rest of a trigger statement after its END
)

func newHeadScanner(query string) headScanner {
	return headScanner{lx: lexer{s: query}, lastSemi: strings.LastIndexByte(query, ';')}
}

// next returns the next statement's head (valid until the next call).
func (sc *headScanner) next() ([]token, bool) {
	n, atStart := 0, true
	for {
		t, ok := sc.lx.next()
		if !ok {
			return sc.buf[:n], n > 0 && sc.state == collecting
		}
		if t.text == ";" && t.kind == 'p' {
			if sc.state == skipping {
				sc.state = collecting
			}
			if sc.state == collecting && n > 0 {
				return sc.buf[:n], true
			}
			atStart = true
			continue
		}
		switch sc.state {
		case inTrigger:
			if atStart && t.isWord("END") {
				sc.state = skipping
			}
			atStart = false
			continue
		case skipping:
			continue
		}
		atStart = false
		if n < headLen {
			sc.buf[n] = t
			n++
			if isCreateTrigger(sc.buf[:n]) {
				// the body's statements are not statements of their own
				sc.state = inTrigger
				return sc.buf[:n], true
			}
		} else if sc.lx.i > sc.lastSemi {
			sc.lx.i = len(sc.lx.s) // the last statement: its head is complete
			return sc.buf[:n], true
		}
	}
}

// isCreateTrigger: CREATE [TEMP|TEMPORARY] TRIGGER.
func isCreateTrigger(head []token) bool {
	if len(head) < 2 || !head[0].isWord("CREATE") {
		return false
	}
	i := 1
	if head[i].isWord("TEMP") || head[i].isWord("TEMPORARY") {
		i++
	}
	return len(head) > i && head[i].isWord("TRIGGER")
}

type token struct {
	text string
	kind byte // 'w' word, 's' quoted string or identifier, 'p' punctuation or parameter
}

func (t token) isWord(w string) bool { return t.kind == 'w' && strings.EqualFold(t.text, w) }

// literal: a quoted string or identifier, or a bare word.
func (t token) literal() bool { return t.kind == 's' || t.kind == 'w' }

// lexer splits SQL into words, quoted tokens and punctuation, skipping
// blanks and comments. Parameters (?1, :x, @x, $x) are 'p' tokens.
type lexer struct {
	s string
	i int
}

func (l *lexer) next() (token, bool) {
	s := l.s
	for l.i < len(s) {
		i, c := l.i, s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.i++
		case strings.HasPrefix(s[i:], "--"):
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				l.i += j + 1
			} else {
				l.i = len(s)
			}
		case strings.HasPrefix(s[i:], "/*"):
			if j := strings.Index(s[i+2:], "*/"); j >= 0 {
				l.i += j + 4
			} else {
				l.i = len(s)
			}
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := i + 1
			for j < len(s) {
				if s[j] == end {
					if end != ']' && j+1 < len(s) && s[j+1] == end { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			l.i = min(j+1, len(s))
			return token{s[i:l.i], 's'}, true
		case isWordByte(c):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			l.i = j
			return token{s[i:j], 'w'}, true
		case c == '?' || c == ':' || c == '@' || c == '$':
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			l.i = j
			return token{s[i:j], 'p'}, true
		default:
			l.i++
			return token{s[i : i+1], 'p'}, true
		}
	}
	return token{}, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
