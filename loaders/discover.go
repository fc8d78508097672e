package loaders

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/agnivade/levenshtein"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/zstd"
)

// Formats of DESIGN §3.
const (
	FormatCSV     = "csv"
	FormatTSV     = "tsv"
	FormatNDJSON  = "ndjson"
	FormatParquet = "parquet"
	FormatArrow   = "arrow"
)

// ndjsonSampleLines is how many lines of an NDJSON file are read to learn
// its columns before loading: enough to see every key of a regular export,
// few enough to stay instant on a huge file. Keys first seen later are still
// kept (in extra); only the required-column check relies on the sample.
const ndjsonSampleLines = 1000

// maxHeaderBytes bounds the header line read from a text file.
const maxHeaderBytes = 1 << 20

// File is one input file of a dataset.
type File struct {
	Dataset     string
	Path        string // absolute
	Rel         string // relative to the input directory, slash-separated; what users see
	Format      string
	Compression string            // "", "gz" or "zst"
	Hive        map[string]string // key=value folders between the dataset folder and the file
	Columns     []string          // as named in the file
	SizeBytes   int64
	SHA256      string
	// QuotedNewlines: a CSV/TSV (decompressed) has a line break inside a
	// quoted field, so record numbers and line numbers differ.
	QuotedNewlines bool
	// BlankLines: a CSV/TSV may have an empty line before
	// more data. The reader skips empty lines without counting them, which
	// would shift the line of every later row; such a file is read from a
	// copy that marks them (see cr.go).
	BlankLines bool
	// StrayCR: a CSV, TSV or NDJSON file has a carriage
	// return that does not end a line. The reader fails on some and reads
	// others as line ends (LF CR), moving every later line; such a file
	// is read from the same copy, where only LF and CRLF end lines.
	StrayCR bool
	// LongRecords: a line (or CSV/TSV record) is over
	// DefaultMaxRecordBytes; the file is read from the same copy, where
	// such a record is one marked line per physical line, quarantined.
	LongRecords bool
}

// ContractError is an input that breaks DESIGN §3 before any row is read: a
// missing required dataset or column, an unreadable or unsupported file.
type ContractError struct {
	Dataset string
	File    string // relative path, or the expected name for a missing dataset
	Column  string
	Msg     string
	Err     error // the cause, when there is one (e.g. *CompressedError)
}

// Unwrap returns the cause.
func (e *ContractError) Unwrap() error { return e.Err }

func (e *ContractError) Error() string {
	var b strings.Builder
	b.WriteString(Escape(e.File, 300))
	if e.Column != "" {
		fmt.Fprintf(&b, ": column \"%s\"", Escape(e.Column, 200))
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Inputs is what Discover found in an input directory.
type Inputs struct {
	Files []File
	// Skipped are the entries of dataset folders not read on purpose:
	// names starting with "." or "_" (hidden files, _SUCCESS markers,
	// _temporary folders), relative paths, folders ending in "/". The run
	// logs them and lists them in run.json, so no data vanishes unsaid.
	Skipped []string
	// Warnings are entries of the input directory that look like a dataset
	// but are not read (Buyers.csv, buyers.json, buyers.csv.bz2).
	Warnings []string
	// SetAside are the files not loaded because their compressed stream
	// does not end properly (DiscoverOptions.SetAsideBroken): "path: reason".
	SetAside []string
}

// DiscoverOptions change what Discover refuses.
type DiscoverOptions struct {
	// SetAsideBroken sets a compressed file whose stream does not end
	// properly aside (listed in Inputs.SetAside, not loaded) instead of
	// refusing the input. A required dataset left without files is still
	// a contract error.
	SetAsideBroken bool
}

// maxFolderDepth bounds how deep a dataset folder is walked (hive
// partitions are a few levels); a symlink loop or a hostile tree stops
// here with an error naming the folder.
const maxFolderDepth = 32

// Discover finds the files of every dataset in dir, checks them against the
// contract (required datasets and columns, supported formats) and hashes
// them. All problems are reported together, before any work.
func Discover(dir string) ([]File, error) {
	in, err := DiscoverInputs(dir)
	if err != nil {
		return nil, err
	}
	return in.Files, nil
}

// DiscoverInputs is Discover with what it skipped and what it warns about.
func DiscoverInputs(dir string) (*Inputs, error) {
	return DiscoverInputsWith(dir, DiscoverOptions{})
}

// DiscoverInputsWith is DiscoverInputs with options.
func DiscoverInputsWith(dir string, opts DiscoverOptions) (*Inputs, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &ContractError{File: dir, Msg: "input directory: " + errMsg(err)}
	}
	if !st.IsDir() {
		return nil, &ContractError{File: dir, Msg: "input is not a directory"}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &ContractError{File: dir, Msg: "input directory: " + errMsg(err)}
	}
	in := &Inputs{Warnings: nearMisses(dir, entries)}
	var errs []error
	for _, ds := range Datasets {
		found, skipped, err := discoverDataset(dir, entries, ds, in.Warnings)
		in.Skipped = append(in.Skipped, skipped...)
		if opts.SetAsideBroken && err != nil {
			var kept []error
			for _, e := range unjoin(err) {
				var ce *ContractError
				var ze *CompressedError
				if errors.As(e, &ce) && errors.As(e, &ze) {
					in.SetAside = append(in.SetAside, e.Error())
					continue
				}
				kept = append(kept, e)
			}
			err = errors.Join(kept...)
			if err == nil && len(found) == 0 && !ds.Optional {
				err = &ContractError{Dataset: ds.Name, File: ds.Name, Msg: fmt.Sprintf("required dataset %s has no file left: every file was set aside as broken", ds.Name)}
			}
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		in.Files = append(in.Files, found...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return in, nil
}

// unjoin lists the errors an errors.Join holds (or err alone).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// nearMisses lists top-level entries that look meant as a dataset but are
// not read: a dataset name in another case, an unsupported format or
// compression, or a name one or two letters off.
func nearMisses(dir string, entries []os.DirEntry) []string {
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		stem, rest, _ := strings.Cut(name, ".")
		lower := strings.ToLower(stem)
		if _, ok := DatasetByName(name); ok && isDir(dir, e) {
			continue // a dataset folder
		}
		if base, _, _, ok := splitExt(name); ok {
			if _, known := DatasetByName(base); known {
				continue
			}
		}
		var want string
		for _, ds := range Datasets {
			switch {
			case lower == ds.Name && stem != ds.Name:
				want = fmt.Sprintf("dataset names are lower case (%s)", ds.Name)
			case stem == ds.Name && rest != "":
				want = "not a supported file type; use .csv, .tsv, .ndjson or .jsonl (optionally .gz or .zst), .parquet or .arrow"
			case stem == ds.Name && !isDir(dir, e) && rest == "":
				want = "a file without an extension; name it " + ds.Name + ".csv (or another supported type)"
			case lower != ds.Name && levenshtein.ComputeDistance(lower, ds.Name) <= 2 && len(lower) >= 4:
				want = fmt.Sprintf("close to the dataset name %s", ds.Name)
			}
			if want != "" {
				break
			}
		}
		if want != "" {
			out = append(out, Escape(name, 200)+": not read: "+want)
		}
	}
	return out
}

// isDir reports whether the entry is a folder, following a symlink.
func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&fs.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}

func discoverDataset(dir string, entries []os.DirEntry, ds Dataset, warnings []string) ([]File, []string, error) {
	var candidates []string
	folder := ""
	for _, e := range entries {
		name := e.Name()
		if name == ds.Name && isDir(dir, e) {
			folder = filepath.Join(dir, name)
			continue
		}
		if base, _, _, ok := splitExt(name); ok && base == ds.Name {
			if isDir(dir, e) {
				return nil, nil, &ContractError{Dataset: ds.Name, File: name + "/", Msg: fmt.Sprintf("is a folder; a dataset is a file %s.EXT or a folder named %s/", ds.Name, ds.Name)}
			}
			candidates = append(candidates, filepath.Join(dir, name))
		}
	}
	switch {
	case folder != "" && len(candidates) > 0:
		return nil, nil, &ContractError{Dataset: ds.Name, File: ds.Name, Msg: fmt.Sprintf("both a folder %s/ and a file %s exist; keep one", ds.Name, filepath.Base(candidates[0]))}
	case len(candidates) > 1:
		return nil, nil, &ContractError{Dataset: ds.Name, File: ds.Name, Msg: fmt.Sprintf("several files for one dataset (%s); keep one, or put them in a folder %s/", baseNames(candidates), ds.Name)}
	case folder == "" && len(candidates) == 0:
		if ds.Optional {
			return nil, nil, nil
		}
		msg := fmt.Sprintf("required dataset %s is missing (a file %s.EXT or a folder %s/)", ds.Name, ds.Name, ds.Name)
		for _, w := range warnings {
			if strings.Contains(w, "("+ds.Name+")") || strings.Contains(w, "dataset name "+ds.Name) || strings.HasPrefix(w, ds.Name+".") {
				msg += "; found " + w
			}
		}
		return nil, nil, &ContractError{Dataset: ds.Name, File: ds.Name + ".{csv,tsv,ndjson,jsonl,parquet,arrow}", Msg: msg}
	}
	var skipped []string
	if folder != "" {
		w := walker{dir: dir}
		if err := w.walk(folder, 0); err != nil {
			return nil, nil, &ContractError{Dataset: ds.Name, File: ds.Name + "/", Msg: err.Error(), Err: err}
		}
		candidates, skipped = w.files, w.skipped
		sort.Strings(candidates)
		if len(candidates) == 0 {
			if ds.Optional {
				return nil, skipped, nil
			}
			msg := "folder holds no data files"
			if len(skipped) > 0 {
				msg += fmt.Sprintf(" (skipped, as hidden or marker names: %s)", strings.Join(skipped, ", "))
			}
			return nil, skipped, &ContractError{Dataset: ds.Name, File: ds.Name + "/", Msg: msg}
		}
	}
	var files []File
	var errs []error
	for _, p := range candidates {
		f, err := describeFile(dir, ds, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, f)
	}
	return files, skipped, errors.Join(errs...)
}

// walker lists the files of a dataset folder, following symlinks (a
// folder linked in from elsewhere is a folder) with a guard against loops.
type walker struct {
	dir     string
	files   []string
	skipped []string
	seen    []os.FileInfo // folders on the current path
}

func (w *walker) rel(p string) string {
	r, _ := filepath.Rel(w.dir, p)
	return Escape(filepath.ToSlash(r), 300)
}

func (w *walker) walk(folder string, depth int) error {
	if depth > maxFolderDepth {
		return fmt.Errorf("%s/: folders nested more than %d deep (a symlink loop?)", w.rel(folder), maxFolderDepth)
	}
	st, err := os.Stat(folder)
	if err != nil {
		return fmt.Errorf("%s/: %v", w.rel(folder), errMsg(err))
	}
	for _, s := range w.seen {
		if os.SameFile(s, st) {
			return fmt.Errorf("%s/: a symlink loop (the folder contains itself)", w.rel(folder))
		}
	}
	w.seen = append(w.seen, st)
	defer func() { w.seen = w.seen[:len(w.seen)-1] }()
	entries, err := os.ReadDir(folder)
	if err != nil {
		return fmt.Errorf("%s/: the folder cannot be read (%v); fix its permissions or move it out of the input", w.rel(folder), errMsg(err))
	}
	for _, e := range entries {
		p := filepath.Join(folder, e.Name())
		name := e.Name()
		dir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("%s: a symlink to nothing readable (%v)", w.rel(p), errMsg(err))
			}
			dir = st.IsDir()
		}
		// Hidden files and markers such as _SUCCESS are not data, as in
		// Spark and Hive; they are reported, never silently dropped.
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			r := w.rel(p)
			if dir {
				r += "/"
			}
			w.skipped = append(w.skipped, r)
			continue
		}
		if dir {
			if err := w.walk(p, depth+1); err != nil {
				return err
			}
			continue
		}
		w.files = append(w.files, p)
	}
	return nil
}

func baseNames(paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return strings.Join(out, ", ")
}

// splitExt splits "clicks.csv.gz" into ("clicks", "csv", "gz").
func splitExt(name string) (base, format, compression string, ok bool) {
	lower := strings.ToLower(name)
	for _, c := range []string{"gz", "zst"} {
		if strings.HasSuffix(lower, "."+c) {
			compression = c
			lower = strings.TrimSuffix(lower, "."+c)
			name = name[:len(lower)]
			break
		}
	}
	dot := strings.LastIndexByte(lower, '.')
	if dot < 0 {
		return "", "", "", false
	}
	switch ext := lower[dot+1:]; ext {
	case "csv", "tsv", "parquet", "arrow":
		format = ext
	case "ndjson", "jsonl":
		format = FormatNDJSON
	default:
		return "", "", "", false
	}
	if compression != "" && (format == FormatParquet || format == FormatArrow) {
		return "", "", "", false
	}
	return name[:dot], format, compression, true
}

func describeFile(dir string, ds Dataset, path string) (File, error) {
	rel, _ := filepath.Rel(dir, path)
	rel = filepath.ToSlash(rel)
	_, format, compression, ok := splitExt(filepath.Base(path))
	if !ok {
		return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: "unsupported file type; use .csv, .tsv, .ndjson or .jsonl (optionally .gz or .zst), .parquet or .arrow"}
	}
	f := File{Dataset: ds.Name, Path: path, Rel: rel, Format: format, Compression: compression, Hive: hiveKeys(rel)}
	text := format == FormatCSV || format == FormatTSV || format == FormatNDJSON
	sc, err := scanFile(path, compression, format == FormatCSV || format == FormatTSV, text, text)
	if err != nil {
		return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: errMsg(err), Err: err}
	}
	f.SizeBytes, f.SHA256, f.QuotedNewlines, f.BlankLines, f.StrayCR, f.LongRecords = sc.size, sc.sum, sc.quotedNL, sc.blank, sc.strayCR, sc.long
	var schema *arrow.Schema
	switch format {
	case FormatCSV, FormatTSV:
		f.Columns, err = readDelimitedHeader(path, compression, format)
	case FormatNDJSON:
		f.Columns, err = readNDJSONKeys(path, compression)
	case FormatArrow:
		f.Columns, schema, err = readArrowColumns(path)
	case FormatParquet:
		f.Columns, err = readParquetColumns(ds, rel, path)
	}
	var ce *ContractError
	if errors.As(err, &ce) {
		return File{}, err
	}
	if err != nil {
		return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: err.Error()}
	}
	if f.Columns != nil {
		if err := checkColumns(ds, f, f.Columns); err != nil {
			return File{}, err
		}
	}
	if schema != nil {
		if err := checkTypes(ds, f, schema); err != nil {
			return File{}, err
		}
	}
	if format == FormatArrow {
		if err := validateArrowFile(path); err != nil {
			return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: err.Error()}
		}
	}
	return f, nil
}

// checkColumns reports the first required column the file lacks, and
// duplicated column names.
func checkColumns(ds Dataset, f File, cols []string) error {
	have := map[string]bool{}
	for _, c := range cols {
		if have[c] {
			return &ContractError{Dataset: ds.Name, File: f.Rel, Column: c, Msg: "column appears twice in the header"}
		}
		have[c] = true
	}
	var missing []string
	for _, c := range ds.Columns {
		if c.Required && !have[c.Name] {
			missing = append(missing, c.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &ContractError{Dataset: ds.Name, File: f.Rel, Column: missing[0],
		Msg: fmt.Sprintf("required column missing (dataset %s needs %s; the file has %s)", ds.Name, strings.Join(missing, ", "), Escape(strings.Join(cols, ", "), 500))}
}

func hiveKeys(rel string) map[string]string {
	parts := strings.Split(rel, "/")
	if len(parts) < 3 {
		return nil
	}
	var out map[string]string
	for _, p := range parts[1 : len(parts)-1] {
		if k, v, ok := strings.Cut(p, "="); ok && k != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// DefaultMaxRecordBytes bounds one line (NDJSON) or one record (CSV/TSV,
// quoted line breaks included). DuckDB's reader refuses lines over 2 MB
// and, somewhere past 20 MB, drops a line without a word and numbers every
// later line one too low; a record over this bound is quarantined by us
// before the reader sees it (see cr.go). No real click or order is near a
// megabyte.
const DefaultMaxRecordBytes = 1 << 20

// fileScan is what one read of a file learns besides its hash.
type fileScan struct {
	size     int64  // bytes on disk
	sum      string // SHA-256 of the bytes on disk
	quotedNL bool
	blank    bool
	strayCR  bool
	long     bool // a line or record over DefaultMaxRecordBytes
}

// CompressedError is a compressed input whose stream does not end
// properly: cut short, corrupt, or followed by bytes that are not another
// stream. DuckDB's readers stop quietly at such a cut, loading part of the
// file as if it were all of it, so every compressed file is decompressed
// once in full before any work.
type CompressedError struct {
	Compression string // "gz" or "zst"
	Data        int64  // decompressed bytes read before the problem
	Lines       int64  // complete lines read before the problem
	Err         error
}

func (e *CompressedError) Error() string {
	name := map[string]string{"gz": "gzip", "zst": "zstd"}[e.Compression]
	what := "is corrupt"
	switch {
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		what = "is cut short (truncated)"
	case errors.Is(e.Err, gzip.ErrHeader), errors.Is(e.Err, zstd.ErrMagicMismatch):
		what = "is followed by bytes that are not " + name + " data"
	case errors.Is(e.Err, gzip.ErrChecksum), errors.Is(e.Err, zstd.ErrCRCMismatch):
		what = "fails its checksum"
	}
	return fmt.Sprintf("the %s stream %s after %d decompressed bytes (%d complete lines): %v; nothing of this file is loaded: deliver it again complete (%s -t checks a file)",
		name, what, e.Data, e.Lines, Escape(e.Err.Error(), 200), name)
}

func (e *CompressedError) Unwrap() error { return e.Err }

// scanFile hashes the file and, on its decompressed text, finds what makes
// the reader go wrong: when scanQuotes is set, a line break inside a
// double-quoted field and an empty line before more data; when scanCR is
// set, a CR that does not end a line (quotes aside for both: the copy is
// exact); when scanLong is set, a line or record over DefaultMaxRecordBytes.
// A compressed file is decompressed in full: a stream that does not end
// properly is a *CompressedError. The scans jump with IndexByte, so they
// cost little next to the hashing.
func scanFile(path, compression string, scanQuotes, scanCR, scanLong bool) (fileScan, error) {
	var out fileScan
	f, err := os.Open(path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	h := sha256.New()
	raw := &countingReader{r: io.TeeReader(f, h)}
	var text io.Reader = raw
	switch compression {
	case "gz":
		zr, err := gzip.NewReader(bufio.NewReaderSize(raw, 1<<20))
		if err != nil {
			return out, fmt.Errorf("not a gzip file: %v", err)
		}
		defer zr.Close()
		text = zr
	case "zst":
		zr, err := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return out, fmt.Errorf("not a zstd file: %v", err)
		}
		defer zr.Close()
		text = zr
	}
	buf := make([]byte, 1<<20)
	var data, lines int64
	inQuote := false
	var blank blankScan
	var cr crScan
	long := longScan{limit: DefaultMaxRecordBytes, quotes: scanQuotes}
	for {
		k, err := text.Read(buf)
		if k > 0 {
			chunk := buf[:k]
			data += int64(k)
			if compression != "" {
				lines += int64(bytes.Count(chunk, []byte{'\n'}))
			}
			if scanQuotes && !out.quotedNL {
				inQuote, out.quotedNL = scanQuotedNewline(chunk, inQuote)
			}
			if scanQuotes && !blank.found {
				blank.scan(chunk)
			}
			if scanCR && !cr.found() {
				cr.scan(chunk)
			}
			if scanLong && !long.found {
				long.scan(chunk)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if compression != "" && raw.err == nil {
				return out, &CompressedError{Compression: compression, Data: data, Lines: lines, Err: err}
			}
			return out, err
		}
	}
	if compression != "" {
		// the decompressor may stop before the end of the file
		if _, err := io.Copy(io.Discard, raw); err != nil {
			return out, err
		}
	}
	out.size, out.sum = raw.n, hex.EncodeToString(h.Sum(nil))
	out.blank, out.strayCR, out.long = blank.found, cr.found(), long.found
	return out, nil
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error // a read error of the file itself, not of the data
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// longScan finds a line, or with quotes a record (line breaks inside
// double quotes do not end it; a quote toggles, which is exact for
// well-formed CSV and errs towards "long" otherwise), of more than limit
// bytes.
type longScan struct {
	limit   int64
	quotes  bool
	inQuote bool
	cur     int64 // bytes of the current record so far
	found   bool
}

func (s *longScan) scan(chunk []byte) {
	for len(chunk) > 0 && !s.found {
		var i int
		if s.quotes {
			i = bytes.IndexAny(chunk, "\"\n\r")
		} else {
			i = bytes.IndexAny(chunk, "\n\r")
		}
		if i < 0 {
			s.cur += int64(len(chunk))
			s.found = s.cur > s.limit
			return
		}
		s.cur += int64(i)
		if s.cur > s.limit {
			s.found = true
			return
		}
		if chunk[i] == '"' {
			s.inQuote = !s.inQuote
			s.cur++
		} else if s.inQuote {
			s.cur++
		} else {
			s.cur = 0
		}
		chunk = chunk[i+1:]
	}
}

// crScan finds a CR not followed by LF in a file that has LFs: a file
// without any LF has classic Mac line ends, which the reader follows. A CR
// at the very end of the file ends the last line.
type crScan struct {
	pending bool // the previous chunk ended with a CR
	lone    bool // a CR not followed by LF
	lf      bool
}

func (s *crScan) found() bool { return s.lone && s.lf }

func (s *crScan) scan(chunk []byte) {
	s.lf = s.lf || bytes.IndexByte(chunk, '\n') >= 0
	if s.lone {
		return
	}
	if s.pending && chunk[0] != '\n' {
		s.lone = true
		return
	}
	s.pending = false
	for i := bytes.IndexByte(chunk, '\r'); i >= 0; {
		switch {
		case i+1 == len(chunk):
			s.pending = true
			return
		case chunk[i+1] != '\n':
			s.lone = true
			return
		}
		j := bytes.IndexByte(chunk[i+2:], '\r')
		if j < 0 {
			return
		}
		i += 2 + j
	}
}

// blankScan finds an empty line (LF LF or LF CR LF) followed later by
// anything but line ends: empty lines at the end of a file move no row.
type blankScan struct {
	tail    []byte // the last bytes of the previous chunk
	pending bool   // an empty line was seen, no data after it yet
	found   bool
}

func (s *blankScan) scan(chunk []byte) {
	if s.pending && len(bytes.Trim(chunk, "\r\n")) > 0 {
		s.found = true
		return
	}
	// an empty line across the chunk boundary
	head := append(append([]byte(nil), s.tail...), chunk[:min(len(chunk), 2)]...)
	at := -1
	if bytes.Contains(head, []byte("\n\n")) || bytes.Contains(head, []byte("\n\r\n")) {
		at = 0
	}
	for _, sep := range []string{"\n\n", "\n\r\n"} {
		if i := bytes.Index(chunk, []byte(sep)); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at >= 0 {
		s.pending = true
		s.found = len(bytes.Trim(chunk[at:], "\r\n")) > 0
	}
	s.tail = append(s.tail[:0], chunk[max(0, len(chunk)-2):]...)
}

// scanQuotedNewline advances the quote state over b and reports whether a
// newline was seen inside quotes. A doubled quote ("") toggles twice, so
// escaped quotes need no special case.
func scanQuotedNewline(b []byte, inQuote bool) (bool, bool) {
	for len(b) > 0 {
		q := bytes.IndexByte(b, '"')
		if inQuote {
			seg := b
			if q >= 0 {
				seg = b[:q]
			}
			if bytes.IndexByte(seg, '\n') >= 0 {
				return inQuote, true
			}
		}
		if q < 0 {
			return inQuote, false
		}
		inQuote = !inQuote
		b = b[q+1:]
	}
	return inQuote, false
}

// openText opens a possibly compressed text file.
func openText(path, compression string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	switch compression {
	case "gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("not a gzip file: %v", err)
		}
		return readCloser{zr, f}, nil
	case "zst":
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("not a zstd file: %v", err)
		}
		return readCloser{zr.IOReadCloser(), f}, nil
	}
	return f, nil
}

type readCloser struct {
	io.Reader
	file *os.File
}

func (r readCloser) Close() error {
	if c, ok := r.Reader.(io.Closer); ok {
		c.Close()
	}
	return r.file.Close()
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func readDelimitedHeader(path, compression, format string) ([]string, error) {
	rc, err := openText(path, compression)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(io.LimitReader(rc, maxHeaderBytes), 64<<10)
	line, err := br.ReadBytes('\n')
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("read header: %v", err)
	}
	switch {
	case bytes.HasPrefix(line, []byte{0xFF, 0xFE}), bytes.HasPrefix(line, []byte{0xFE, 0xFF}):
		return nil, errors.New("the file is UTF-16 text; save it as UTF-8")
	case bytes.IndexByte(line, 0) >= 0:
		return nil, errors.New("the first line holds NUL bytes: this is not a text file (compressed without a .gz or .zst name?)")
	}
	line = bytes.TrimPrefix(line, utf8BOM)
	// A file with classic Mac line ends (CR only) has its header up to the
	// first CR; the reader follows CR line ends.
	if i := bytes.IndexByte(line, '\r'); i >= 0 {
		line = line[:i]
	}
	line = bytes.TrimRight(line, "\n")
	if len(line) == 0 {
		return nil, errors.New("empty file: the first line must be the header naming the columns")
	}
	r := csv.NewReader(bytes.NewReader(line))
	if format == FormatTSV {
		r.Comma = '\t'
	}
	r.LazyQuotes = true
	cols, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %v", err)
	}
	for i, c := range cols {
		cols[i] = strings.TrimSpace(c)
	}
	return cols, nil
}

// readNDJSONKeys returns the keys of the objects in the first lines, in
// first-seen order. An empty file has no rows and so no columns to check.
func readNDJSONKeys(path, compression string) ([]string, error) {
	rc, err := openText(path, compression)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), maxHeaderBytes)
	seen := map[string]bool{}
	var keys []string
	objects := 0
	for i := 0; i < ndjsonSampleLines && sc.Scan(); i++ {
		line := bytes.TrimSpace(bytes.TrimPrefix(sc.Bytes(), utf8BOM))
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			continue
		}
		ok := true
		var lineKeys []string
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				ok = false
				break
			}
			k, _ := tok.(string)
			lineKeys = append(lineKeys, k)
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		objects++
		for _, k := range lineKeys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, bufio.ErrTooLong) {
		return nil, fmt.Errorf("read: %v", err)
	}
	if objects == 0 {
		return nil, nil
	}
	return keys, nil
}

// arrowFileMagic starts an Arrow IPC file; a stream has no magic.
var arrowFileMagic = []byte("ARROW1")

func isArrowFile(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, len(arrowFileMagic))
	n, _ := io.ReadFull(f, head)
	return bytes.Equal(head[:n], arrowFileMagic), nil
}

func readArrowColumns(path string) ([]string, *arrow.Schema, error) {
	r, err := openArrow(path)
	if err != nil {
		return nil, nil, err
	}
	defer r.Release()
	fields := r.Schema().Fields()
	// openArrow appends the row-number and UTF-8 columns; the file's own
	// columns come first.
	fields = fields[:len(fields)-2]
	names := make([]string, 0, len(fields))
	for _, fld := range fields {
		names = append(names, fld.Name)
	}
	return names, arrow.NewSchema(fields, nil), nil
}

func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
