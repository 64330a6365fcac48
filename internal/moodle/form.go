package moodle

import (
	"net/url"
	"strconv"
)

// Form is an ordered set of PHP bracket-syntax arguments. Its length is the number of
// leaves, which is what PHP's max_input_vars counts.
type Form struct{ keys, vals []string }

// Set adds one leaf.
func (f *Form) Set(key, val string) { f.keys = append(f.keys, key); f.vals = append(f.vals, val) }

// Int adds one integer leaf.
func (f *Form) Int(key string, v int64) { f.Set(key, strconv.FormatInt(v, 10)) }

// Bool adds one boolean leaf as Moodle wants it: 0 or 1, never true/false.
func (f *Form) Bool(key string, v bool) {
	if v {
		f.Set(key, "1")
	} else {
		f.Set(key, "0")
	}
}

func (f *Form) values() url.Values {
	v := make(url.Values, len(f.keys)+3)
	for i, k := range f.keys {
		v.Add(k, f.vals[i])
	}
	return v
}

// item returns the bracket prefix of item i of list name: "name[i]".
func item(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// field returns "prefix[key]".
func field(prefix, key string) string { return prefix + "[" + key + "]" }
