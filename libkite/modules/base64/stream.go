package base64

import (
	"bytes"
	"context"
	stdb64 "encoding/base64"
	"errors"
	"io"
	"strings"

	"github.com/project-starkite/starkite/libkite"
)

// encodeStream encodes everything r yields with enc; hint (the input's
// size, or 0) sizes the result up front. The input is never held whole.
func encodeStream(ctx context.Context, enc *stdb64.Encoding, r io.Reader, hint int64) (string, error) {
	var sb strings.Builder
	if hint > 0 {
		sb.Grow(enc.EncodedLen(int(hint)))
	}
	w := stdb64.NewEncoder(enc, &sb)
	if _, err := io.Copy(w, libkite.ContextReader(ctx, r)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// errCorrupt reports that decodeStream met input DecodeString would reject.
var errCorrupt = errors.New("illegal base64 data")

// decodeStream decodes the Base64 text r yields exactly as
// enc.DecodeString would decode it whole ('\r' and '\n' ignored, padding
// only in the final quantum), without holding the text. Bad input gives
// errCorrupt: the caller re-decodes the whole text for Go's exact
// message (its byte offset counts the skipped newlines).
func decodeStream(ctx context.Context, enc *stdb64.Encoding, r io.Reader, hint int64) ([]byte, error) {
	out := make([]byte, 0, enc.DecodedLen(int(hint)))
	size := 64 << 10
	if hint > 0 && hint < int64(size) {
		size = int(hint) + 1 // small file: one read and the EOF
	}
	buf := make([]byte, size)
	var pending []byte // text not decoded yet, newlines removed
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, rerr := r.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				pending = append(pending, c)
			}
		}
		// decode whole quanta, holding back the last one: only the final
		// quantum of the text may carry padding
		if k := (len(pending)/4 - 1) * 4; k > 0 {
			chunk := pending[:k]
			if bytes.IndexByte(chunk, '=') >= 0 {
				return nil, errCorrupt
			}
			var err error
			if out, err = enc.AppendDecode(out, chunk); err != nil {
				return nil, errCorrupt
			}
			pending = append(pending[:0], pending[k:]...)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	out, err := enc.AppendDecode(out, pending)
	if err != nil {
		return nil, errCorrupt
	}
	return out, nil
}
