//go:build ignore

// gen draws the synthetic stand-in for the AliExpress reference logo:
// go run ./rules/brand/gen.go (from the repository root).
package main

import (
	"os"

	"affwatch/fixtures/sites"
)

func main() {
	// The same mark the loopback fixture sites serve as their copied
	// favicons (fixtures/sites.BrandMarkPNG), at 256×256.
	if err := os.WriteFile("rules/brand/aliexpress.png", sites.BrandMarkPNG(256), 0o644); err != nil {
		panic(err)
	}
}
