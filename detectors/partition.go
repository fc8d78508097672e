package detectors

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Partition is the share of publishers one run judges when the program is
// split over several machines (affwatch run --partition i/N, issue 8): the
// publishers whose id hashes to Index out of Count. The zero value is the
// whole program.
type Partition struct {
	Index, Count int
}

// ParsePartition reads "i/N" with 0 ≤ i < N.
func ParsePartition(s string) (Partition, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Partition{}, fmt.Errorf("partition %q: want i/N with 0 ≤ i < N, e.g. 0/4", s)
	}
	return Partition{Index: i, Count: n}, nil
}

// Whole reports whether the run judges every publisher.
func (p Partition) Whole() bool { return p.Count <= 1 }

// Has reports whether publisherID belongs to the partition.
func (p Partition) Has(publisherID string) bool {
	return p.Whole() || PartitionOf(publisherID, p.Count) == p.Index
}

func (p Partition) String() string {
	if p.Whole() {
		return "whole"
	}
	return fmt.Sprintf("%d/%d", p.Index, p.Count)
}

// PartitionOf is the partition of a publisher id among n: the first four
// bytes of the id's MD5, big-endian, modulo n. MD5 because every engine
// that prepares the input upstream has it (DuckDB, Spark, BigQuery,
// PostgreSQL) and PartitionSQL computes the same number in SQL; it is a
// spreading function here, not a security one.
func PartitionOf(publisherID string, n int) int {
	if n <= 1 {
		return 0
	}
	sum := md5.Sum([]byte(publisherID))
	return int(binary.BigEndian.Uint32(sum[:4]) % uint32(n))
}

// PartitionSQL is PartitionOf as a DuckDB expression over column (an
// identifier of the caller's query, never user input); a NULL id counts
// as the empty one, like an organic order.
func PartitionSQL(column string, n int) string {
	if !isIdent(strings.ReplaceAll(column, ".", "_")) {
		panic("PartitionSQL: bad column " + column)
	}
	if n <= 1 {
		return "0"
	}
	return fmt.Sprintf("CAST(('0x' || substr(md5(coalesce(%s, '')), 1, 8)) AS UBIGINT) %% %d", column, n)
}
