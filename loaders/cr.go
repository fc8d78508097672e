package loaders

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// DuckDB's CSV reader, which reads CSV, TSV and the lines of NDJSON, fails
// the whole file ("The CSV Parser state machine reached an invalid state",
// rejects or not) at a carriage return that does not end a line: a CR not
// followed by LF, outside quotes; and at a CRLF in a file it took for LF
// (or the reverse). Other stray CRs (LF CR) it reads as line ends, moving
// every later line number. One such byte in a user agent must neither
// abort the night nor move lines, so a file with one (File.StrayCR, found
// while hashing an uncompressed file; for a compressed one, the reader's
// failure) is read from a copy in which every stray CR is an invalid UTF-8
// byte instead: the reader rejects just those lines, and they are
// quarantined with strayCRReason. Clean files never pay for the copy.
//
// The same copy serves CSV and TSV files with empty lines before more data
// (File.BlankLines): the reader skips an empty line without counting it,
// so every later row would get a line too low. In the copy an empty line
// holds the invalid byte, is rejected and so counted like any rejected
// line, and is dropped from the rejects before they are quarantined.

const strayCRReason = "carriage return (CR) inside a line: only LF or CRLF may end a line, and a CR in a value must be quoted"

// strayCRByte replaces a stray CR in the copy; it is never valid UTF-8.
const strayCRByte = 0xFF

func isStrayCRError(err error) bool {
	return err != nil && strings.Contains(err.Error(), "CSV Parser state machine reached an invalid state")
}

// strayCRFile asks Load to read File again from a copy without stray CRs.
type strayCRFile struct {
	file File
	err  error
}

func (e *strayCRFile) Error() string { return e.file.Rel + ": " + e.err.Error() }
func (e *strayCRFile) Unwrap() error { return e.err }

// crCopy is the copy of a file with its stray CRs and empty lines marked.
type crCopy struct {
	path   string
	lines  []int64 // first physical line of each record that held a stray CR
	blanks []int64 // empty lines (CSV and TSV), and the later lines of a long record
	long   []longRecord
}

// longRecord is a record over DefaultMaxRecordBytes: in the copy each of
// its physical lines is one marked line, the first quarantined with the
// reason, the others dropped like empty lines, so no later line moves.
type longRecord struct {
	line         int64 // first physical line
	lines        int64 // physical lines it spans
	bytes        int64
	unterminated bool // a quote opened in it never closes before the end of the file
}

func (r longRecord) reason() string {
	what := "line"
	if r.lines > 1 {
		what = fmt.Sprintf("record (%d lines, a quoted value with line breaks)", r.lines)
	}
	msg := fmt.Sprintf("%s too long: %d bytes, over the limit of %d bytes; not loaded", what, r.bytes, DefaultMaxRecordBytes)
	if r.unterminated {
		msg += "; a quote opened on this line never closes, so the record runs to the end of the file"
	}
	return msg
}

// copyWithoutStrayCR writes f, decompressed, to a temporary file with every
// CR that does not end a line (outside double quotes for CSV and TSV, the
// quote rules of read_csv) replaced by strayCRByte. Line breaks are kept,
// so line numbers do not move; CRLF becomes LF, since the reader also fails
// on a file that mixes the two. A CR at the very end of the file ends the
// last line and is dropped. In CSV and TSV an empty line (outside quotes)
// gets strayCRByte too.
func copyWithoutStrayCR(f File) (*crCopy, error) {
	in, err := openText(f.Path, f.Compression)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, err := os.CreateTemp("", "affwatch-cr-*."+f.Format)
	if err != nil {
		return nil, err
	}
	c := &crCopy{path: out.Name()}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			os.Remove(c.path)
		}
	}()
	quotes := f.Format == FormatCSV || f.Format == FormatTSV
	delim := byte(',')
	if f.Format == FormatTSV {
		delim = '\t'
	}
	r := bufio.NewReaderSize(in, 1<<20)
	w := bufio.NewWriterSize(out, 1<<20)
	line, record := int64(1), int64(1)
	inQuote, pendingCR, empty, fieldStart := false, false, true, true
	// A record is held until it ends, up to the limit; past it, only its
	// size and line breaks are counted.
	var rec []byte
	var recBytes, recNL int64
	recLong := false
	emit := func(b byte) {
		recBytes++
		if b == '\n' {
			recNL++
		}
		if recLong {
			return
		}
		rec = append(rec, b)
		if int64(len(rec)) > DefaultMaxRecordBytes {
			recLong, rec = true, rec[:0]
		}
	}
	flush := func(atEOF bool) {
		if recLong {
			lr := longRecord{line: record, lines: recNL, bytes: recBytes, unterminated: atEOF && inQuote}
			if atEOF {
				lr.lines++ // the last line has no line end
			}
			c.long = append(c.long, lr)
			w.WriteByte(strayCRByte)
			for j := int64(1); j <= recNL; j++ {
				w.WriteByte('\n')
				if j < lr.lines {
					c.blanks = append(c.blanks, record+j)
					w.WriteByte(strayCRByte)
				}
			}
		} else {
			w.Write(rec)
		}
		rec, recBytes, recNL, recLong = rec[:0], 0, 0, false
	}
	for {
		b, err := r.ReadByte()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if pendingCR {
			pendingCR = false
			if b != '\n' {
				emit(strayCRByte)
				empty, fieldStart = false, false
				if n := len(c.lines); n == 0 || c.lines[n-1] != record {
					c.lines = append(c.lines, record)
				}
			}
		}
		switch {
		case b == '\r' && !inQuote:
			pendingCR = true
			continue
		case b == '"' && quotes:
			// The reader's rules: a quote opens a quoted value only at the
			// start of a field, "" inside one is a quote, and a quote
			// inside an unquoted value is a plain character.
			switch {
			case inQuote:
				if next, _ := r.Peek(1); len(next) == 1 && next[0] == '"' {
					r.ReadByte()
					emit('"')
				} else {
					inQuote = false
				}
			case fieldStart:
				inQuote = true
			}
		case b == delim && quotes && !inQuote:
			empty, fieldStart = false, true
			emit(b)
			continue
		case b == '\n':
			if quotes && empty && !inQuote {
				emit(strayCRByte)
				c.blanks = append(c.blanks, line)
			}
			line++
			emit(b)
			if !inQuote {
				flush(false)
				record, fieldStart = line, true
			}
			empty = true
			continue
		}
		empty, fieldStart = false, false
		emit(b)
	}
	flush(true)
	if err := w.Flush(); err != nil {
		return nil, err
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}
