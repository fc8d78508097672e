package crawler

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// acceptEncoding is what we can decode under a cap. We decode ourselves
// (Transport.DisableCompression) because net/http's transparent gzip has
// no limit on the decompressed size.
const acceptEncoding = "gzip, br, zstd"

var errBodyLimit = errors.New("body limit")

// countingReader counts the bytes read from the network.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readBody reads at most max bytes from the wire and at most max bytes of
// decoded content, so neither an endless body nor a decompression bomb
// can exhaust memory. A body cut short says why in truncated; a timeout
// keeps what arrived.
func readBody(resp *http.Response, max int64) (body []byte, truncated string, err error) {
	raw := &countingReader{r: io.LimitReader(resp.Body, max+1)}
	var r io.Reader = raw
	enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		enc = ""
	case "gzip", "x-gzip":
		gz, gerr := gzip.NewReader(raw)
		if gerr != nil {
			return nil, "", fmt.Errorf("gzip: %w", gerr)
		}
		defer gz.Close()
		r = gz
	case "br":
		r = brotli.NewReader(raw)
	case "zstd":
		// A frame may ask for a window of gigabytes; cap the decoder's memory.
		zr, zerr := zstd.NewReader(raw, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(max)+1), zstd.WithDecoderMaxWindow(uint64(max)+1))
		if zerr != nil {
			return nil, "", fmt.Errorf("zstd: %w", zerr)
		}
		defer zr.Close()
		r = zr
	case "deflate":
		fr := flate.NewReader(raw)
		defer fr.Close()
		r = fr
	default:
		// Unknown coding: keep the bytes as they are, say so.
		truncated = "unknown content-encoding " + enc + ": body kept undecoded"
		enc = ""
	}
	body, err = io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(body)) > max {
		body = body[:max]
		if enc != "" && raw.n <= max {
			return body, fmt.Sprintf("decompressed %s body over %d bytes (from %d on the wire): decompression bomb cut off", enc, max, raw.n), nil
		}
		return body, fmt.Sprintf("body over %d bytes: cut off", max), nil
	}
	if raw.n > max {
		return body, fmt.Sprintf("body over %d bytes on the wire: cut off", max), nil
	}
	if err != nil {
		if len(body) > 0 {
			return body, "body incomplete: " + truncate(err.Error(), 200), nil
		}
		return body, "", err
	}
	return body, truncated, nil
}
