package loaders

import (
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
)

// Column names the Arrow adapter appends to every batch. They start with
// "_aw_" so they cannot collide with a contract column.
const (
	arrowRowColumn  = "_aw_row"      // 1-based row number in the file
	arrowUTF8Column = "_aw_bad_utf8" // first string column of the row holding invalid UTF-8
)

// arrowRows reads an Arrow IPC file or stream and hands its batches to
// DuckDB with two columns added: the row number (Arrow has no line numbers)
// and, because DuckDB trusts Arrow strings to be UTF-8, the name of the
// first string column whose value is not valid UTF-8, so that such rows are
// quarantined instead of poisoning the store.
type arrowRows struct {
	refs   atomic.Int64
	f      *os.File
	file   *ipc.FileReader
	stream *ipc.Reader
	next   int // next batch of file
	schema *arrow.Schema
	cur    arrow.RecordBatch
	row    int64
	err    error
	mem    memory.Allocator
}

func openArrow(path string) (*arrowRows, error) {
	isFile, err := isArrowFile(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := &arrowRows{f: f, mem: memory.DefaultAllocator}
	r.refs.Store(1)
	var in *arrow.Schema
	if isFile {
		r.file, err = ipc.NewFileReader(f, ipc.WithAllocator(r.mem))
		if err == nil {
			in = r.file.Schema()
		}
	} else {
		r.stream, err = ipc.NewReader(f, ipc.WithAllocator(r.mem))
		if err == nil {
			in = r.stream.Schema()
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("not an Arrow IPC file or stream: %v", err)
	}
	fields := append(append([]arrow.Field(nil), in.Fields()...),
		arrow.Field{Name: arrowRowColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: arrowUTF8Column, Type: arrow.BinaryTypes.String, Nullable: true})
	r.schema = arrow.NewSchema(fields, nil)
	return r, nil
}

func (r *arrowRows) Retain() { r.refs.Add(1) }

func (r *arrowRows) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.file != nil {
		r.file.Close()
	}
	if r.stream != nil {
		r.stream.Release()
	}
	r.f.Close()
}

func (r *arrowRows) Schema() *arrow.Schema { return r.schema }

func (r *arrowRows) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	var in arrow.RecordBatch
	switch {
	case r.file != nil:
		if r.next >= r.file.NumRecords() {
			return false
		}
		in, r.err = r.file.RecordBatch(r.next)
		r.next++
		if r.err != nil {
			return false
		}
		in.Retain()
	default:
		if !r.stream.Next() {
			r.err = r.stream.Err()
			return false
		}
		in = r.stream.RecordBatch()
		in.Retain()
	}
	defer in.Release()
	n := int(in.NumRows())
	rows := array.NewInt64Builder(r.mem)
	defer rows.Release()
	bad := array.NewStringBuilder(r.mem)
	defer bad.Release()
	rows.Reserve(n)
	badCol := make([]string, n)
	cols := append([]arrow.Array(nil), in.Columns()...)
	for ci, col := range cols {
		name := in.Schema().Field(ci).Name
		switch a := col.(type) {
		case *array.String:
			found := false
			for i := 0; i < n; i++ {
				if a.IsValid(i) && !utf8.ValidString(a.Value(i)) {
					found = true
					if badCol[i] == "" {
						badCol[i] = name
					}
				}
			}
			if found {
				// DuckDB refuses invalid UTF-8 when storing; the row is
				// quarantined, but the batch must still load.
				fixed := sanitizeStrings(r.mem, a)
				defer fixed.Release()
				cols[ci] = fixed
			}
		case *array.LargeString:
			for i := 0; i < n; i++ {
				if badCol[i] == "" && a.IsValid(i) && !utf8.ValidString(a.Value(i)) {
					badCol[i] = name
				}
			}
		}
	}
	for i := 0; i < n; i++ {
		r.row++
		rows.Append(r.row)
		if badCol[i] == "" {
			bad.AppendNull()
		} else {
			bad.Append(badCol[i])
		}
	}
	rowArr, badArr := rows.NewArray(), bad.NewArray()
	defer rowArr.Release()
	defer badArr.Release()
	cols = append(cols, rowArr, badArr)
	r.cur = array.NewRecordBatch(r.schema, cols, int64(n))
	return true
}

func (r *arrowRows) RecordBatch() arrow.RecordBatch { return r.cur }

func sanitizeStrings(mem memory.Allocator, a *array.String) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(strings.ToValidUTF8(a.Value(i), "\uFFFD"))
	}
	return b.NewArray()
}

// Record is the deprecated name of RecordBatch, kept for the interface.
func (r *arrowRows) Record() arrow.RecordBatch { return r.cur }

func (r *arrowRows) Err() error { return r.err }

var _ array.RecordReader = (*arrowRows)(nil)

// readParquetColumns lists a Parquet file's top-level columns from its
// footer, so a missing required column is reported before any work.
func readParquetColumns(path string) ([]string, error) {
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("not a Parquet file: %v", err)
	}
	defer r.Close()
	root := r.MetaData().Schema.Root()
	names := make([]string, root.NumFields())
	for i := range names {
		names[i] = root.Field(i).Name()
	}
	return names, nil
}
