package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Lister lists the objects at the locations of one URL scheme (s3://…).
//
// List calls fn for every object under location, in a stable order, skipping those
// the window rules out by their keys — before listing them where the layout allows,
// so that a narrow window does not list a year of keys. An error from fn stops the
// listing and is returned. Objects that vanish or cannot be read later are the
// Reader's concern, not the Lister's.
type Lister interface {
	List(ctx context.Context, location string, w Window, fn func(Object) error) error
}

// List calls fn for every object at location, in a stable order (sorted by name),
// skipping objects the window rules out by their key. A location is "-" (standard
// input), a file, a folder (walked recursively; hidden files and folders are
// skipped), a glob pattern (with *, ? or [), or an s3:// URL when s3 is not nil. A
// location that does not exist, or a glob that matches nothing, is an error.
func List(ctx context.Context, location string, w Window, s3 Lister, fn func(Object) error) error {
	if location == "-" {
		return fn(NewObject("-", -1, func(context.Context) (io.ReadCloser, error) {
			return io.NopCloser(os.Stdin), nil
		}))
	}
	if strings.HasPrefix(location, "s3://") {
		if s3 == nil {
			return fmt.Errorf("read %s: S3 is not configured", location)
		}
		return s3.List(ctx, location, w, fn)
	}
	if strings.ContainsAny(location, "*?[") {
		matches, err := filepath.Glob(location)
		if err != nil {
			return fmt.Errorf("glob %s: %w", location, err)
		}
		if len(matches) == 0 {
			return fmt.Errorf("glob %s: no files match", location)
		}
		for _, m := range matches {
			if hiddenMatch(location, m) {
				continue
			}
			if err := listPath(ctx, m, w, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return listPath(ctx, location, w, fn)
}

func listPath(ctx context.Context, path string, w Window, fn func(Object) error) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, unwrapPathError(err))
	}
	if !info.IsDir() {
		return fn(fileObject(path, info.Size()))
	}
	var names []string
	sizes := make(map[string]int64)
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("read folder %s: %w", p, unwrapPathError(err))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != path && !w.MayContain(filepath.ToSlash(p)+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !w.MayContain(filepath.ToSlash(p)) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, unwrapPathError(err))
		}
		names = append(names, p)
		sizes[p] = info.Size()
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		if err := fn(fileObject(n, sizes[n])); err != nil {
			return err
		}
	}
	return nil
}

func fileObject(path string, size int64) Object {
	return NewObject(path, size, func(context.Context) (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, unwrapPathError(err)
		}
		return f, nil
	})
}

// unwrapPathError drops the *fs.PathError wrapper, whose text repeats the path the
// caller's message already names.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// hiddenMatch reports whether a glob matched a hidden file or folder that the
// pattern did not name with a leading dot, which shells leave out of * as well.
func hiddenMatch(pattern, match string) bool {
	pp := strings.Split(filepath.ToSlash(pattern), "/")
	mp := strings.Split(filepath.ToSlash(match), "/")
	if len(pp) != len(mp) {
		return false
	}
	for i := range mp {
		if strings.HasPrefix(mp[i], ".") && mp[i] != "." && mp[i] != ".." && !strings.HasPrefix(pp[i], ".") {
			return true
		}
	}
	return false
}
