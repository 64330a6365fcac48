package cli

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/enrolctl/enrolctl/internal/spec"
	"github.com/enrolctl/enrolctl/internal/specfmt"
)

func (a *App) fmtCommand() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "fmt [PATH...]",
		Short: "Rewrite specs in their canonical layout",
		Long: `Fmt rewrites spec files (and the configuration) in the canonical layout: HCL as
terraform fmt lays it out; YAML with two-space indentation, list items indented under
their key and one space before a line's comment. It never changes what a file says:
the result is read back and compared with the original, comments included, and a file
that would differ is left alone with an error. PATHs are files or folders; without
any, the configuration and the spec folder of every site. It prints the files it
rewrote (with --check, those it would rewrite, writing nothing).

Exit codes: 0 every file in the layout (or rewritten), 1 a file could not be read or
parsed, 3 with --check: some files are not in the layout (as terraform fmt -check).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := a.fmtFiles(args)
			if err != nil {
				return err
			}
			var failed, changed int
			for _, f := range files {
				src, err := os.ReadFile(a.path(f))
				if err != nil {
					return err
				}
				out, err := specfmt.Format(f, src)
				if err != nil {
					fmt.Fprintf(a.Err, "%s: cannot format: %v\n", f, err)
					failed++
					continue
				}
				if bytes.Equal(out, src) {
					continue
				}
				changed++
				fmt.Fprintln(a.Out, f)
				if !check {
					if err := writeKeepingMode(a.path(f), out); err != nil {
						return err
					}
				}
			}
			switch {
			case failed > 0:
				return &exitError{code: exitFailure, err: fmt.Errorf("%d file(s) could not be formatted", failed)}
			case check && changed > 0:
				fmt.Fprintf(a.Err, "%d file(s) not in the canonical layout; run enrolctl fmt to rewrite them.\n", changed)
				return &exitError{code: exitUnformatted}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing: list the files not in the layout and exit 3 when there are some")
	return cmd
}

// fmtFiles lists the files fmt looks at: the spec files under each PATH, or the
// configuration and every site's spec folder. Paths are relative to the working
// directory when they are below it; hidden files and folders are skipped, as the
// loader skips them, and links are not followed (fmt never writes through one).
func (a *App) fmtFiles(args []string) ([]string, error) {
	if len(args) == 0 {
		cfg, err := a.readConfig()
		if err != nil {
			return nil, err
		}
		if cfg.File != "" {
			args = append(args, cfg.File)
		}
		for _, s := range cfg.Sites {
			args = append(args, s.SpecsDir)
		}
	}
	var files []string
	for _, root := range args {
		st, err := os.Lstat(a.path(root))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", root, err)
		}
		if !st.IsDir() {
			files = append(files, root)
			continue
		}
		err = filepath.WalkDir(a.path(root), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != a.path(root) && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && spec.IsSpecFile(d.Name()) {
				below, err := filepath.Rel(a.path(root), p)
				if err != nil {
					return err
				}
				files = append(files, filepath.Join(root, below)) // as the user wrote root
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return slices.Compact(files), nil
}

// writeKeepingMode replaces the content of an existing file, keeping its permissions.
func writeKeepingMode(path string, data []byte) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, st.Mode().Perm())
}
