package base64

import (
	"bytes"
	"context"
	stdb64 "encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/iotest"
)

// decodeFile mirrors fileConversion's decode: stream, then the whole
// text again for the exact error.
func decodeFile(enc *stdb64.Encoding, text string, oneByte bool) ([]byte, error) {
	r := bytes.NewReader([]byte(text))
	var src = iotestReader(r, oneByte)
	out, err := decodeStream(context.Background(), enc, src, int64(len(text)))
	if err == errCorrupt {
		out, err = decodeWhole(enc, r)
	}
	return out, err
}

func iotestReader(r *bytes.Reader, oneByte bool) interface{ Read([]byte) (int, error) } {
	if oneByte {
		return iotest.OneByteReader(r)
	}
	return r
}

func checkSame(t *testing.T, enc *stdb64.Encoding, text string) {
	t.Helper()
	want, wantErr := enc.DecodeString(text)
	for _, oneByte := range []bool{false, true} {
		got, err := decodeFile(enc, text, oneByte)
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("%q (oneByte=%v): error %v, want %v", text, oneByte, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q (oneByte=%v): %q, want %q", text, oneByte, got, want)
		}
	}
}

func TestDecodeStreamMatchesDecodeString(t *testing.T) {
	fixed := []string{"", "\n", "\r\n", "TQ==", "TQ=", "TQ", "T", "TQ==\n", "TQ==TQ==", "TWFu\nTWFu", "TW\nFu", "TWFu=",
		"====", "TQ=\n=", "aGVsbG8", "aGVs bG8=", "!!!!", "TWFuTWFuTWFuTWFuTWE=", "TWFuTWFuTWFuTWFuTWE=\n\n\n", "TWFuTWFuT=FuTWFu"}
	for _, enc := range []*stdb64.Encoding{stdb64.StdEncoding, stdb64.URLEncoding} {
		for _, s := range fixed {
			checkSame(t, enc, s)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		alphabet := "ABCDabcd0189+/-_=\r\n*"
		for range 3000 {
			var b strings.Builder
			if rng.IntN(2) == 0 {
				// mostly valid text with a possible defect
				data := make([]byte, rng.IntN(200))
				for i := range data {
					data[i] = byte(rng.Uint32())
				}
				s := []byte(enc.EncodeToString(data))
				if len(s) > 0 && rng.IntN(3) == 0 {
					s[rng.IntN(len(s))] = alphabet[rng.IntN(len(alphabet))]
				}
				for i, c := range s {
					if i > 0 && rng.IntN(20) == 0 {
						b.WriteString("\r\n")
					}
					b.WriteByte(c)
				}
			} else {
				for range rng.IntN(40) {
					b.WriteByte(alphabet[rng.IntN(len(alphabet))])
				}
			}
			checkSame(t, enc, b.String())
		}
	}
}

func TestDecodeStreamLargeChunks(t *testing.T) {
	// the text spans many 64 KiB reads, padding only at the very end
	data := bytes.Repeat([]byte("kite"), 100_001)
	text := stdb64.StdEncoding.EncodeToString(data)
	checkSame(t, stdb64.StdEncoding, text)
	checkSame(t, stdb64.StdEncoding, text[:len(text)/2]+"="+text[len(text)/2:])
	checkSame(t, stdb64.StdEncoding, text+"TQ==")
}

func TestStreamsHonourCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := decodeStream(ctx, stdb64.StdEncoding, strings.NewReader("TQ=="), 4); err != context.Canceled {
		t.Fatalf("decode: %v", err)
	}
	if _, err := encodeStream(ctx, stdb64.StdEncoding, strings.NewReader("M"), 1); err != context.Canceled {
		t.Fatalf("encode: %v", err)
	}
}

func FuzzDecodeStream(f *testing.F) {
	for _, s := range []string{"", "TQ==", "TWFu\r\nTWE=", "TQ==TQ==", "a!b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSame(t, stdb64.StdEncoding, s)
		checkSame(t, stdb64.URLEncoding, s)
	})
}
