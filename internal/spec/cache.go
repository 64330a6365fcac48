package spec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

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
// pack. It begins with what it was made by and for (cacheFormat, this executable, the
// roles the decoder checked against) and ends with the CRC-32C of what precedes: a
// pack from another build, cut short or altered is ignored and rewritten. Dates are
// kept as written and turned into timestamps again in the time zone of the run.

// cacheFormat is the version of the pack's layout; change it with the codec.
const cacheFormat = "enrolctl spec cache 2\n"

// castagnoli is the CRC that ends a pack: it finds a pack cut short or damaged at a
// tenth of the CPU of SHA-256 (which a forger would recompute as easily).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// specCache is one load's cache: the pack read (if any) and the entries to write.
type specCache struct {
	path   string
	header string
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
// an unreadable or foreign pack is no pack.
func openCache(dir, where string, opts Options) *specCache {
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
		header: cacheFormat + executableID() + "\x00" + roles + "\n",
		loc:    loc,
		days:   map[dayKey]int64{},
	}
	if data, err := os.ReadFile(c.path); err == nil {
		c.read(data)
	}
	return c
}

// executableID names the running build: its path, size and modification time, so that
// an upgraded or rebuilt enrolctl never decodes a pack of another.
func executableID() string {
	exe, err := os.Executable()
	if err != nil {
		return "unknown"
	}
	st, err := os.Stat(exe)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%s\x00%d\x00%d", exe, st.Size(), st.ModTime().UnixNano())
}

// read takes the pack data when it is whole and made for this run. The data is never
// written to: the strings decoded are slices of it, not copies.
func (c *specCache) read(data []byte) {
	if len(data) < crc32.Size || !bytes.HasPrefix(data, []byte(c.header)) {
		return
	}
	body := data[:len(data)-crc32.Size]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(data[len(body):]) {
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
		h := crc32.New(castagnoli)
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
		_, err := w.Write(h.Sum(nil)) // big-endian
		return err
	})
}

// writeAtomic writes path through a temporary file renamed over it; the folder is
// made if need be, with a .gitignore that keeps it out of git.
func writeAtomic(path string, write func(io.Writer) error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	ignore := filepath.Join(dir, ".gitignore")
	if _, err := os.Lstat(ignore); os.IsNotExist(err) {
		_ = os.WriteFile(ignore, []byte("# enrolctl's parse cache: safe to delete\n*\n"), 0o600)
	}
	f, err := os.CreateTemp(dir, ".specs-*.tmp")
	if err != nil {
		return
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
}
