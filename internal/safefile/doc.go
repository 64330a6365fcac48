// Package safefile reads the files a user names (specs, the configuration, a token
// file, a saved plan, a CSV) without hanging or exhausting memory: only regular files
// are opened, and never more than a cap is read. A FIFO would block the open until a
// writer comes; /dev/zero, or a symlink to it, never ends. It also writes the files
// enrolctl keeps (the sandbox, imported specs, the parse cache) whole or not at all.
//
// Entry points: ReadFS (a file of an fs.FS: the spec folder, a git tree), Read and
// Open (a path on disk); WriteAtomic.
package safefile
