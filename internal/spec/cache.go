package spec

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/enrolctl/enrolctl/internal/safefile"
	"github.com/enrolctl/enrolctl/internal/tree"
)

// The parse cache (Options.CacheDir) keeps what each clean YAML course spec decoded to,
// keyed by the SHA-256 of the file's bytes, in one pack per spec folder and set of
// roles: a run whose files are unchanged decodes them from the pack rather than
// parsing and checking them again. Only files read without a diagnostic and holding
// courses alone are kept (HCL files depend on variables.hcl and their budget; errors
// and policies are few): every other file is parsed as if there were no cache.
//
// The pack is written whole, to a temporary file renamed over it, so a reader sees an
// old pack or a new one, never half of one, and two runs at once each leave a good
// pack. It begins with what it was made by and for (cacheFormat, this build, the roles
// the decoder checked against) and ends with the HMAC-SHA256 of what precedes under
// Options.CacheKey, a secret of the user's kept outside the repository: a pack from
// another build, cut short, altered, or not written by this user's enrolctl (one
// committed with the specs, or copied in) is ignored and rewritten. Dates are kept as
// written and turned into timestamps again in the time zone of the run.

// cacheFormat is the version of the pack's layout; change it with the codec.
const cacheFormat = "enrolctl spec cache 3\n"

// maxPack bounds the pack read: about 3/4 of the specs it holds.
const maxPack = 1 << 30

// specCache is one load's cache: the pack read (if any) and the entries to write.
type specCache struct {
	path   string
	header string
	key    []byte
	loc    *time.Location

	data    string           // the pack read, its payloads sliced from it
	index   map[[32]byte]int // key → entry
	entries []cacheEntry     // from the pack
	used    []atomic.Bool    // entries this run hit
	mu      sync.Mutex       // guards added and days
	added   []cacheEntry     // files parsed this run
	days    map[dayKey]int64 // dates already turned into timestamps
}

type cacheEntry struct {
	key     [32]byte
	payload string
}

type dayKey struct {
	text string
	end  bool
}

// openCache reads the pack of the spec folder where (as the load names it) in dir;
// an unreadable or foreign pack is no pack. Without a key there is no cache (nil).
func openCache(dir, where string, opts Options) *specCache {
	if len(opts.CacheKey) == 0 {
		return nil
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	roles := "roles\x00" + strings.Join(opts.Roles, "\x00")
	if opts.SiteRoles != nil {
		roles += "\x00site\x00" + strings.Join(opts.SiteRoles, "\x00")
	}
	name := sha256.Sum256([]byte(where + "\x00" + roles))
	c := &specCache{
		path:   filepath.Join(dir, "specs-"+hex.EncodeToString(name[:8])+".pack"),
		header: cacheFormat + buildID() + "\x00" + roles + "\n",
		key:    opts.CacheKey,
		loc:    loc,
		days:   map[dayKey]int64{},
	}
	// Only a regular file, and not too large: a FIFO or /dev/zero in its place must
	// neither hang the run nor fill its memory.
	if data, err := safefile.Read(c.path, maxPack, "parse cache"); err == nil {
		c.read(data)
	}
	return c
}

// buildID names the running build: its version and commit as the build recorded them,
// and the executable's path, size and modification time, so that an upgraded or
// rebuilt enrolctl never decodes a pack of another.
func buildID() string {
	id := "unknown"
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			id = fmt.Sprintf("%s\x00%d\x00%d", exe, st.Size(), st.ModTime().UnixNano())
		}
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		id += "\x00" + bi.GoVersion + "\x00" + bi.Main.Version
		for _, s := range bi.Settings {
			if strings.HasPrefix(s.Key, "vcs.") {
				id += "\x00" + s.Value
			}
		}
	}
	return id
}

// mac is the pack's seal: HMAC-SHA256 of its bytes under the user's key.
func (c *specCache) mac() hash.Hash { return hmac.New(sha256.New, c.key) }

// read takes the pack data when it is whole and made for this run. The data is never
// written to: the strings decoded are slices of it, not copies.
func (c *specCache) read(data []byte) {
	if len(data) < sha256.Size || !bytes.HasPrefix(data, []byte(c.header)) {
		return
	}
	body := data[:len(data)-sha256.Size]
	h := c.mac()
	h.Write(body)
	if !hmac.Equal(h.Sum(nil), data[len(body):]) {
		return
	}
	entries, ok := parsePack(unsafe.String(unsafe.SliceData(body), len(body))[len(c.header):])
	if !ok {
		return
	}
	c.entries = entries
	c.used = make([]atomic.Bool, len(entries))
	c.index = make(map[[32]byte]int, len(entries))
	for i, e := range entries {
		c.index[e.key] = i
	}
}

// parsePack splits a pack's entries: a count, then each key and payload.
func parsePack(s string) ([]cacheEntry, bool) {
	r := cacheReader{s: s}
	n := r.count()
	out := make([]cacheEntry, 0, n)
	for range n {
		var e cacheEntry
		if len(r.s)-r.i < len(e.key) {
			return nil, false
		}
		copy(e.key[:], r.s[r.i:])
		r.i += len(e.key)
		e.payload = r.str()
		out = append(out, e)
	}
	return out, !r.bad && r.i == len(r.s)
}

// get returns the result of the file whose content has key, if the pack has it.
func (c *specCache) get(key [32]byte, file string) (fileResult, bool) {
	i, ok := c.index[key]
	if !ok {
		return fileResult{}, false
	}
	courses, ok := decodeCourses(c.entries[i].payload, file, c.date)
	if !ok {
		return fileResult{}, false
	}
	c.used[i].Store(true)
	return fileResult{file: file, courses: courses}, true
}

// put keeps a file's result when it can be kept: courses alone, no diagnostic. size
// is the file's, about what its entry takes.
func (c *specCache) put(key [32]byte, r fileResult, size int) {
	if len(r.diags) > 0 || len(r.policies) > 0 || len(r.courses) == 0 {
		return
	}
	payload, ok := encodeCourses(r.courses, r.file, size)
	if !ok {
		return
	}
	c.mu.Lock()
	// The payload is never written to again: a string of it needs no copy.
	c.added = append(c.added, cacheEntry{key: key, payload: unsafe.String(unsafe.SliceData(payload), len(payload))})
	c.mu.Unlock()
}

// date turns a date as written back into a timestamp in the run's time zone, as the
// decoder did (readDate); ok is false if it now fails.
func (c *specCache) date(text string, end bool) (int64, bool) {
	k := dayKey{text, end}
	c.mu.Lock()
	u, ok := c.days[k]
	c.mu.Unlock()
	if ok {
		return u, true
	}
	var ds Diagnostics
	d := readDate(tree.Str{V: text, Set: true}, "date", end, c.loc, &ds)
	if len(ds) > 0 || !d.Set {
		return 0, false
	}
	c.mu.Lock()
	c.days[k] = d.Unix
	c.mu.Unlock()
	return d.Unix, true
}

// save writes the pack of this run's files when it differs from the one read: files
// parsed, or entries no file hit (a file changed or gone). Failing to write is no
// error: the cache only saves time.
func (c *specCache) save() {
	hits := 0
	for i := range c.used {
		if c.used[i].Load() {
			hits++
		}
	}
	if len(c.added) == 0 && hits == len(c.entries) {
		return
	}
	keep := make([]cacheEntry, 0, hits+len(c.added))
	for i, e := range c.entries {
		if c.used[i].Load() {
			keep = append(keep, e)
		}
	}
	seen := make(map[[32]byte]bool, len(keep)+len(c.added))
	for _, e := range keep {
		seen[e.key] = true
	}
	for _, e := range c.added {
		if !seen[e.key] {
			seen[e.key] = true
			keep = append(keep, e)
		}
	}
	writeAtomic(c.path, func(w io.Writer) error {
		h := c.mac()
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 64<<10)
		bw.WriteString(c.header)
		var n [binary.MaxVarintLen64]byte
		bw.Write(n[:binary.PutUvarint(n[:], uint64(len(keep)))])
		for _, e := range keep {
			bw.Write(e.key[:])
			bw.Write(n[:binary.PutUvarint(n[:], uint64(len(e.payload)))])
			bw.WriteString(e.payload)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		_, err := w.Write(h.Sum(nil))
		return err
	})
}

// writeAtomic writes path through a temporary file renamed over it; the folder is
// made if need be, with a .gitignore that keeps it out of git. A folder that is a
// symbolic link (one a repository may carry) is not written through: the pack holds
// usernames, which must not land outside the repository's .enrolctl.
func writeAtomic(path string, write func(io.Writer) error) {
	dir := filepath.Dir(path)
	for _, d := range []string{filepath.Dir(dir), dir} {
		if st, err := os.Lstat(d); err == nil && st.Mode()&fs.ModeSymlink != 0 {
			return
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Lstat(ignore); os.IsNotExist(err) {
		_ = os.WriteFile(ignore, []byte("# enrolctl's parse cache: safe to delete\n*\n"), 0o600)
	}
	_ = safefile.WriteAtomic(path, 0o600, false, write)
}
