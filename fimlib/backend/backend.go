// Package backend chooses the gomlx compute backend for fimprune.
//
// The entry point is [New]. gomlx's own default is "xla", which, with no PJRT
// plugin installed, tries to download one from the network and fails on an
// offline machine without falling back. fimprune therefore uses the pure-Go
// backend ("go") unless $GOMLX_BACKEND names another one, e.g. "xla:cuda",
// "xla:cpu" or "xla:/abs/path/plugin.so".
package backend

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend" // registers "go"
)

// EnvVar is the environment variable that selects the backend (gomlx's own).
const EnvVar = compute.ConfigEnvVar

// Default is the backend configuration used when $GOMLX_BACKEND is unset.
const Default = "go"

// Config returns the backend configuration New will use: $GOMLX_BACKEND when
// set and non-empty, else [Default].
func Config() string {
	if c := strings.TrimSpace(os.Getenv(EnvVar)); c != "" {
		return c
	}
	return Default
}

// Check reports whether the configuration names a backend compiled into this
// binary, without starting it, so that a typo fails before any training.
func Check(config string) error {
	name, _, _ := strings.Cut(config, ":")
	for _, n := range compute.List() {
		if n == name {
			return nil
		}
	}
	return fmt.Errorf("unknown %s %q: this binary has backends %s", EnvVar, config, strings.Join(compute.List(), ", "))
}

// New starts the backend named by [Config].
func New() (compute.Backend, error) {
	config := Config()
	if err := Check(config); err != nil {
		return nil, err
	}
	b, err := compute.NewWithConfig(config)
	if err != nil {
		return nil, fmt.Errorf("starting backend %q: %w", config, err)
	}
	return b, nil
}
