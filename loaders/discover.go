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
	// QuotedNewlines: an uncompressed CSV/TSV has a line break inside a
	// quoted field, so record numbers and line numbers differ.
	QuotedNewlines bool
	// BlankLines: an uncompressed CSV/TSV may have an empty line before
	// more data. The reader skips empty lines without counting them, which
	// would shift the line of every later row; such a file is read from a
	// copy that marks them (see cr.go).
	BlankLines bool
	// StrayCR: an uncompressed CSV, TSV or NDJSON file has a carriage
	// return that does not end a line. The reader fails on some and reads
	// others as line ends (LF CR), moving every later line; such a file
	// is read from the same copy, where only LF and CRLF end lines.
	StrayCR bool
}

// ContractError is an input that breaks DESIGN §3 before any row is read: a
// missing required dataset or column, an unreadable or unsupported file.
type ContractError struct {
	Dataset string
	File    string // relative path, or the expected name for a missing dataset
	Column  string
	Msg     string
}

func (e *ContractError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Column != "" {
		fmt.Fprintf(&b, ": column %q", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// Discover finds the files of every dataset in dir, checks them against the
// contract (required datasets and columns, supported formats) and hashes
// them. All problems are reported together, before any work.
func Discover(dir string) ([]File, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, &ContractError{File: dir, Msg: "input directory: " + errMsg(err)}
	}
	if !st.IsDir() {
		return nil, &ContractError{File: dir, Msg: "input is not a directory"}
	}
	var files []File
	var errs []error
	for _, ds := range Datasets {
		found, err := discoverDataset(dir, ds)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files = append(files, found...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

func discoverDataset(dir string, ds Dataset) ([]File, error) {
	var candidates []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &ContractError{File: dir, Msg: errMsg(err)}
	}
	folder := ""
	for _, e := range entries {
		name := e.Name()
		if name == ds.Name && e.IsDir() {
			folder = filepath.Join(dir, name)
			continue
		}
		if base, _, _, ok := splitExt(name); ok && base == ds.Name && !e.IsDir() {
			candidates = append(candidates, filepath.Join(dir, name))
		}
	}
	switch {
	case folder != "" && len(candidates) > 0:
		return nil, &ContractError{Dataset: ds.Name, File: ds.Name, Msg: fmt.Sprintf("both a folder %s/ and a file %s exist; keep one", ds.Name, filepath.Base(candidates[0]))}
	case len(candidates) > 1:
		return nil, &ContractError{Dataset: ds.Name, File: ds.Name, Msg: fmt.Sprintf("several files for one dataset (%s); keep one, or put them in a folder %s/", baseNames(candidates), ds.Name)}
	case folder == "" && len(candidates) == 0:
		if ds.Optional {
			return nil, nil
		}
		return nil, &ContractError{Dataset: ds.Name, File: ds.Name + ".{csv,tsv,ndjson,jsonl,parquet,arrow}", Msg: fmt.Sprintf("required dataset %s is missing (a file %s.EXT or a folder %s/)", ds.Name, ds.Name, ds.Name)}
	}
	if folder != "" {
		err := filepath.WalkDir(folder, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			// Hidden files and markers such as _SUCCESS are not data.
			if p != folder && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() {
				candidates = append(candidates, p)
			}
			return nil
		})
		if err != nil {
			return nil, &ContractError{Dataset: ds.Name, File: ds.Name + "/", Msg: errMsg(err)}
		}
		sort.Strings(candidates)
		if len(candidates) == 0 {
			if ds.Optional {
				return nil, nil
			}
			return nil, &ContractError{Dataset: ds.Name, File: ds.Name + "/", Msg: "folder holds no data files"}
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
	return files, errors.Join(errs...)
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
	scan := (format == FormatCSV || format == FormatTSV) && compression == ""
	scanCR := (scan || format == FormatNDJSON) && compression == ""
	size, sum, quotedNL, blank, strayCR, err := hashFile(path, scan, scanCR)
	if err != nil {
		return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: errMsg(err)}
	}
	f.SizeBytes, f.SHA256, f.QuotedNewlines, f.BlankLines, f.StrayCR = size, sum, quotedNL, blank, strayCR
	switch format {
	case FormatCSV, FormatTSV:
		f.Columns, err = readDelimitedHeader(path, compression, format)
	case FormatNDJSON:
		f.Columns, err = readNDJSONKeys(path, compression)
	case FormatArrow:
		f.Columns, err = readArrowColumns(path)
	case FormatParquet:
		f.Columns, err = readParquetColumns(path)
	}
	if err != nil {
		return File{}, &ContractError{Dataset: ds.Name, File: rel, Msg: err.Error()}
	}
	if f.Columns != nil {
		if err := checkColumns(ds, f, f.Columns); err != nil {
			return File{}, err
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
		Msg: fmt.Sprintf("required column missing (dataset %s needs %s; the file has %s)", ds.Name, strings.Join(missing, ", "), strings.Join(cols, ", "))}
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

// hashFile returns the file's size and SHA-256 and, when scanQuotes is set,
// whether a line break occurs inside a double-quoted field and whether an
// empty line may come before more data, and when scanCR is set whether a
// CR does not end a line (quotes aside for both: the copy is exact); the
// scans ride on the hashing read and jump with IndexByte, so they cost
// little.
func hashFile(path string, scanQuotes, scanCR bool) (size int64, sum string, quotedNL, blankLines, strayCR bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", false, false, false, err
	}
	defer f.Close()
	h := sha256.New()
	buf := make([]byte, 1<<20)
	var n int64
	inQuote := false
	var blank blankScan
	var cr crScan
	for {
		k, err := f.Read(buf)
		if k > 0 {
			chunk := buf[:k]
			h.Write(chunk)
			n += int64(k)
			if scanQuotes && !quotedNL {
				inQuote, quotedNL = scanQuotedNewline(chunk, inQuote)
			}
			if scanQuotes && !blank.found {
				blank.scan(chunk)
			}
			if scanCR && !cr.found() {
				cr.scan(chunk)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, "", false, false, false, err
		}
	}
	return n, hex.EncodeToString(h.Sum(nil)), quotedNL, blank.found, cr.found(), nil
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
	line = bytes.TrimPrefix(line, utf8BOM)
	line = bytes.TrimRight(line, "\r\n")
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

func readArrowColumns(path string) ([]string, error) {
	r, err := openArrow(path)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	fields := r.Schema().Fields()
	// openArrow appends the row-number and UTF-8 columns; the file's own
	// columns come first.
	names := make([]string, 0, len(fields)-2)
	for _, fld := range fields[:len(fields)-2] {
		names = append(names, fld.Name)
	}
	return names, nil
}

func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
