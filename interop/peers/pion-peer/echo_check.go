// The dialer's messages and how their echoes are checked: the same as interop/peers/echo-check.mjs and
// `oxirtc dial` (apps/oxirtc-cli/src/dial/echo_check.rs).
package main

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// messages: message i is text "ping:<i>:" + "x"*size (binary max(size,16) bytes), or with sizes exactly
// sizes[i%n] bytes each (text cut to that length); binary byte j is (i*31+j)&255.
func messages(count, size int, sizes []int, binary bool) (texts []string, bins [][]byte) {
	for i := 0; i < count; i++ {
		exact := -1
		if len(sizes) > 0 {
			exact = sizes[i%len(sizes)]
		}
		n := size
		if exact >= 0 {
			n = exact
		}
		t := fmt.Sprintf("ping:%d:%s", i, strings.Repeat("x", n))
		if exact >= 0 {
			t = t[:exact]
		}
		texts = append(texts, t)
		if binary {
			bl := size
			if bl < 16 {
				bl = 16
			}
			if exact >= 0 {
				bl = exact
			}
			b := make([]byte, bl)
			for j := range b {
				b[j] = byte((i*31 + j) & 255)
			}
			bins = append(bins, b)
		}
	}
	return texts, bins
}

func parseSizes(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("--sizes wants comma-separated byte counts, e.g. 0,262144, not %q", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// echoCheck counts echoes: in order per kind on an ordered channel, as a multiset otherwise; a
// partially reliable channel passes with at least 95 % back. Not safe for concurrent use.
type echoCheck struct {
	texts                          []string
	bins                           [][]byte
	ordered, partial               bool
	pending                        map[string]int
	echoed, binaryEchoed, mismatch int
}

func newEchoCheck(texts []string, bins [][]byte, ordered, partial bool) *echoCheck {
	c := &echoCheck{texts: texts, bins: bins, ordered: ordered && !partial, partial: partial, pending: map[string]int{}}
	for _, t := range texts {
		c.pending["t"+t]++
	}
	for _, b := range bins {
		c.pending["b"+string(b)]++
	}
	return c
}

func (c *echoCheck) add(isString bool, data []byte) {
	ok := false
	switch {
	case c.ordered && isString:
		ok = c.echoed < len(c.texts) && string(data) == c.texts[c.echoed]
	case c.ordered:
		ok = c.binaryEchoed < len(c.bins) && bytes.Equal(data, c.bins[c.binaryEchoed])
	default:
		key := "b" + string(data)
		if isString {
			key = "t" + string(data)
		}
		if c.pending[key] > 0 {
			c.pending[key]--
			ok = true
		}
	}
	switch {
	case !ok:
		c.mismatch++
	case isString:
		c.echoed++
	default:
		c.binaryEchoed++
	}
}

func (c *echoCheck) complete() bool {
	return c.echoed == len(c.texts) && c.binaryEchoed == len(c.bins)
}

func (c *echoCheck) passed() bool {
	if c.mismatch > 0 {
		return false
	}
	if c.partial {
		return (c.echoed+c.binaryEchoed)*100 >= (len(c.texts)+len(c.bins))*95
	}
	return c.complete()
}
