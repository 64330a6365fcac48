package moodle

import (
	"net/url"
	"strconv"
	"strings"
)

// Form is an ordered set of PHP bracket-syntax arguments. Its length is the number of
// leaves, which is what PHP's max_input_vars counts.
type Form struct{ keys, vals []string }

// Set adds one leaf.
func (f *Form) Set(key, val string) { f.keys = append(f.keys, key); f.vals = append(f.vals, val) }

// Int adds one integer leaf.
func (f *Form) Int(key string, v int64) { f.Set(key, strconv.FormatInt(v, 10)) }

// encode is the request body: the leaves in the order they were added, then the
// fixed key-value pairs, which replace leaves of the same keys. The order matters:
// PHP builds a list in the order its items come, and answers follow it; sorting the
// keys, as url.Values does, put courseids[10] before courseids[2].
func (f *Form) encode(fixed ...string) string {
	var b strings.Builder
	pair := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(k))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(v))
	}
	if f != nil {
	leaves:
		for i, k := range f.keys {
			for j := 0; j+1 < len(fixed); j += 2 {
				if fixed[j] == k {
					continue leaves
				}
			}
			pair(k, f.vals[i])
		}
	}
	for j := 0; j+1 < len(fixed); j += 2 {
		pair(fixed[j], fixed[j+1])
	}
	return b.String()
}

// item returns the bracket prefix of item i of list name: "name[i]".
func item(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }
