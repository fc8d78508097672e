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
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"
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

// Bounds of an Arrow input. The IPC readers trust the lengths written in
// the file: a 100-byte file claiming a 2 GB message allocated 2 GB, and a
// CSV renamed .arrow (its first bytes read as a length) 1.7 GB.
const (
	// maxArrowMetadataBytes bounds one message's metadata (a schema or a
	// batch header); real ones are kilobytes.
	maxArrowMetadataBytes = 16 << 20
	// minArrowAllocation is the smallest single-allocation cap; the cap
	// grows with the file (arrowAllocationPerByte bytes per byte on disk)
	// for compressed IPC buffers, which expand.
	minArrowAllocation     = 256 << 20
	arrowAllocationPerByte = 64
)

// cappedAllocator refuses any single allocation over limit: a length in a
// hostile file must not become a multi-gigabyte buffer. It panics, as the
// allocators do when memory runs out; the readers recover.
type cappedAllocator struct {
	memory.Allocator
	limit int
}

type allocationError struct{ size, limit int }

func (e allocationError) Error() string {
	return fmt.Sprintf("a length in the file asks for %d bytes, over the cap of %d for a file this size", e.size, e.limit)
}

func (a cappedAllocator) Allocate(n int) []byte {
	if n > a.limit || n < 0 {
		panic(allocationError{n, a.limit})
	}
	return a.Allocator.Allocate(n)
}

func (a cappedAllocator) Reallocate(n int, b []byte) []byte {
	if n > a.limit || n < 0 {
		panic(allocationError{n, a.limit})
	}
	return a.Allocator.Reallocate(n, b)
}

// corruptArrow turns a panic of the Arrow readers (a corrupt footer made
// them slice out of range) into an error.
func corruptArrow(p any) error {
	if e, ok := p.(allocationError); ok {
		return fmt.Errorf("corrupt Arrow file: %v", e)
	}
	return fmt.Errorf("corrupt Arrow file: %s", Escape(fmt.Sprint(p), 300))
}

func openArrow(path string) (_ *arrowRows, err error) {
	isFile, err := isArrowFile(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	size := st.Size()
	limit := int64(minArrowAllocation)
	if size*arrowAllocationPerByte > limit {
		limit = size * arrowAllocationPerByte
	}
	r := &arrowRows{f: f, mem: cappedAllocator{memory.DefaultAllocator, int(min(limit, int64(^uint(0)>>1)))}}
	r.refs.Store(1)
	defer func() {
		if p := recover(); p != nil {
			f.Close()
			err = corruptArrow(p)
		}
	}()
	opts := []ipc.Option{ipc.WithAllocator(r.mem), ipc.WithMetadataSizeLimit(min(size, maxArrowMetadataBytes)), ipc.WithBodySizeLimit(max(size, 8))}
	var in *arrow.Schema
	if isFile {
		r.file, err = ipc.NewFileReader(f, opts...)
		if err == nil {
			in = r.file.Schema()
		}
	} else {
		// NewReader drops the size limits; a message reader keeps them.
		r.stream, err = ipc.NewReaderFromMessageReader(ipc.NewMessageReader(f, opts...), opts...)
		if err == nil {
			in = r.stream.Schema()
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("not an Arrow IPC file or stream: %s", Escape(err.Error(), 300))
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

func (r *arrowRows) Next() (ok bool) {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			r.err, ok = corruptArrow(p), false
		}
	}()
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
	for i, col := range in.Columns() {
		if err := validateArrowArray(col); err != nil {
			r.err = fmt.Errorf("corrupt Arrow file: batch %d, column %s: %v", r.next, Escape(in.Schema().Field(i).Name, 100), err)
			return false
		}
	}
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

// validateArrowArray checks what DuckDB will read through the C data
// interface without checking: buffer sizes against the length, offsets,
// dictionary indices. A lie there is an out-of-bounds read in C.
func validateArrowArray(a arrow.Array) error {
	switch t := a.(type) {
	case *array.String:
		// not ValidateFull: it refuses invalid UTF-8, which is a row to
		// quarantine (Next), not a broken file
		if err := t.Validate(); err != nil {
			return err
		}
		if err := monotonic(t.ValueOffsets()); err != nil {
			return err
		}
	case *array.LargeString:
		if err := t.Validate(); err != nil {
			return err
		}
		if err := monotonic(t.ValueOffsets()); err != nil {
			return err
		}
	case interface{ ValidateFull() error }:
		if err := t.ValidateFull(); err != nil {
			return err
		}
	}
	d := a.Data()
	n := d.Offset() + d.Len()
	if d.Offset() < 0 || d.Len() < 0 {
		return fmt.Errorf("negative offset or length")
	}
	bufs := d.Buffers()
	if len(bufs) > 0 && bufs[0] != nil && bufs[0].Len()*8 < n {
		return fmt.Errorf("validity bitmap of %d bytes for %d values", bufs[0].Len(), n)
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok && n > 0 {
		need := (n*fw.BitWidth() + 7) / 8
		if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < need {
			return fmt.Errorf("values buffer shorter than %d values of %s", n, a.DataType())
		}
	}
	switch t := a.(type) {
	case *array.Dictionary:
		if err := validateArrowArray(t.Dictionary()); err != nil {
			return err
		}
		size := t.Dictionary().Len()
		for i := 0; i < t.Len(); i++ {
			if t.IsValid(i) {
				if k := t.GetValueIndex(i); k < 0 || k >= size {
					return fmt.Errorf("dictionary index %d outside a dictionary of %d", k, size)
				}
			}
		}
	case *array.Struct:
		for i := 0; i < t.NumField(); i++ {
			if t.Field(i).Len() < n {
				return fmt.Errorf("struct field shorter than the struct")
			}
			if err := validateArrowArray(t.Field(i)); err != nil {
				return err
			}
		}
	case array.ListLike:
		if err := validateArrowArray(t.ListValues()); err != nil {
			return err
		}
	}
	return nil
}

func monotonic[T int32 | int64](offsets []T) error {
	for i := 1; i < len(offsets); i++ {
		if offsets[i] < offsets[i-1] || offsets[i-1] < 0 {
			return fmt.Errorf("string offsets not increasing at %d", i)
		}
	}
	return nil
}

// validateArrowFile reads every batch once, so a corrupt or lying Arrow
// file is a contract error naming it before any work instead of a failed
// load (or a crash) midway.
func validateArrowFile(path string) error {
	r, err := openArrow(path)
	if err != nil {
		return err
	}
	defer r.Release()
	for r.Next() {
	}
	if err := r.Err(); err != nil {
		if strings.HasPrefix(err.Error(), "corrupt Arrow file") {
			return err
		}
		return fmt.Errorf("corrupt or truncated Arrow data: %s", Escape(err.Error(), 300))
	}
	return nil
}

// readParquetColumns lists a Parquet file's top-level columns from its
// footer, so a missing required column is reported before any work, and
// checks the types of the contract columns among them (checkTypes).
func readParquetColumns(ds Dataset, rel, path string) (_ []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("corrupt Parquet file: %s", Escape(fmt.Sprint(p), 300))
		}
	}()
	r, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("not a Parquet file: %s", Escape(err.Error(), 300))
	}
	defer r.Close()
	root := r.MetaData().Schema.Root()
	names := make([]string, root.NumFields())
	for i := range names {
		n := root.Field(i)
		names[i] = n.Name()
		c, ok := ds.Column(n.Name())
		if !ok {
			continue
		}
		if msg := parquetTypeProblem(c, n); msg != "" {
			return nil, &ContractError{Dataset: ds.Name, File: rel, Column: c.Name, Msg: msg}
		}
	}
	return names, nil
}

// parquetTypeProblem is typeProblem for a Parquet schema node.
func parquetTypeProblem(c Column, n schema.Node) string {
	p, ok := n.(*schema.PrimitiveNode)
	if !ok || n.RepetitionType() == parquet.Repetitions.Repeated {
		return fmt.Sprintf("nested type (a group or repeated field) where the contract wants one %s value per row; write a plain column", c.Kind)
	}
	pt := p.PhysicalType()
	switch c.Kind {
	case Timestamp:
		if n.ConvertedType() == schema.ConvertedTypes.Decimal {
			return "type DECIMAL cannot hold a timestamp; write a timestamp type, RFC 3339 text with a zone, or integer epoch milliseconds"
		}
		switch pt {
		case parquet.Types.Double, parquet.Types.Float, parquet.Types.Boolean, parquet.Types.FixedLenByteArray:
			return fmt.Sprintf("type %s cannot hold a timestamp; write a timestamp type, RFC 3339 text with a zone, or integer epoch milliseconds", pt)
		}
	case Bool:
		switch pt {
		case parquet.Types.Double, parquet.Types.Float, parquet.Types.FixedLenByteArray:
			return fmt.Sprintf("type %s cannot hold a boolean; write a boolean type, true/false text or 1/0", pt)
		}
	}
	return ""
}
