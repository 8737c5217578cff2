package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spartan-images/spartan/internal/build"
	"github.com/spartan-images/spartan/internal/cache"
	"github.com/spartan-images/spartan/internal/debian/archive"
	"github.com/spartan-images/spartan/internal/spec"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// globals are the flags every command shares.
type globals struct {
	cacheDir       string
	mirror         string
	securityMirror string
	alpineMirror   string
	keyrings       []string
	verbose        int
	aptDir         string
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "spartan",
		Short:         "Build hardened, minimal container images from Debian packages",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := root.PersistentFlags()
	f.StringVar(&g.cacheDir, "cache", cache.DefaultDir(), "download cache directory (env SPARTAN_CACHE)")
	f.StringVar(&g.mirror, "mirror", "", "Debian mirror URL (env "+build.EnvMirror+"; default: the host's apt sources)")
	f.StringVar(&g.securityMirror, "security-mirror", "", "Debian security mirror URL (env "+build.EnvSecurityMirror+"; default: the host's apt sources, else <mirror>-security)")
	f.StringVar(&g.alpineMirror, "alpine-mirror", "", "Alpine mirror URL, the directory holding v3.22/, edge/ … (env "+build.EnvAlpineMirror+"), for distro: alpine specs")
	f.StringArrayVar(&g.keyrings, "keyring", nil, "extra trusted OpenPGP key file (armored or binary), for private mirrors and derivatives; repeatable")
	f.CountVarP(&g.verbose, "verbose", "v", "more logging (-v info, -vv debug)")
	f.StringVar(&g.aptDir, "apt-dir", "/etc/apt", "where to read the host's apt sources from")
	_ = f.MarkHidden("apt-dir")
	// Each command lives in its own file; they are all registered here, in help's order.
	root.AddCommand(
		newAuditCmd(g), newBuildCmd(g), newCompareCmd(g), newDBCmd(g), newDebugCmd(g), newIndexCmd(g), newKeygenCmd(g), newLockCmd(g),
		newMigrateCmd(g), newPlanCmd(g), newPolicyCmd(g), newPushCmd(g), newRebaseCmd(g), newRebuildCmd(g), newResolveCmd(g), newSBOMCmd(g), newScanCmd(g),
		newSignCmd(g), newSiteCmd(g), newTimelineCmd(g), newUpdateCmd(g), newVerifyCmd(g), newVersionCmd(), newVEXCmd(g),
	)
	return root
}

func (g *globals) logger() *slog.Logger {
	level := slog.LevelWarn
	switch {
	case g.verbose >= 2:
		level = slog.LevelDebug
	case g.verbose == 1:
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// options turns the global flags and a spec into build options; archs, when not empty, is the
// --arch flag's comma-separated list overriding the spec's.
func (g *globals) options(specPath, variant, archs string) (build.Options, error) {
	s, err := spec.Load(specPath)
	if err != nil {
		return build.Options{}, err
	}
	if s, err = s.Variant(variant); err != nil {
		return build.Options{}, err
	}
	return g.optionsFor(s, archs)
}

// optionsFor is options for a spec already loaded.
func (g *globals) optionsFor(s *spec.Spec, archs string) (build.Options, error) {
	var o build.Options
	var err error
	var mirrors build.Mirrors
	if build.IsAlpine(s) {
		// Alpine mirrors come from the flag, the environment or the spec; never from apt.
		mirrors.Alpine = g.alpineMirror
	} else if mirrors, err = build.ResolveMirrors(g.mirror, g.securityMirror, g.aptDir); err != nil {
		return o, err
	}
	var keys openpgp.EntityList
	for _, k := range g.keyrings {
		el, err := archive.LoadKeyring(k)
		if err != nil {
			return o, fmt.Errorf("--keyring: %w", err)
		}
		keys = append(keys, el...)
	}
	c, err := cache.New(g.cacheDir)
	if err != nil {
		return o, fmt.Errorf("cache %s: %w", g.cacheDir, err)
	}
	log := g.logger()
	d := &cache.Downloader{
		HTTP:      &http.Client{Transport: http.DefaultTransport},
		Cache:     c,
		Log:       log,
		UserAgent: "spartan/" + version,
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		d.Progress = os.Stderr
	}
	o = build.Options{
		Spec:       s,
		Archs:      splitArchs(archs),
		Mirrors:    mirrors,
		Keyring:    keys,
		Downloader: d,
		Log:        log,
		Version:    version,
	}
	epoch, err := sourceDateEpoch()
	if epoch != nil {
		t := epoch.UTC()
		o.Epoch = &t
	}
	return o, err
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH, nil when it is not set.
func sourceDateEpoch() (*time.Time, error) {
	sde := os.Getenv("SOURCE_DATE_EPOCH")
	if sde == "" {
		return nil, nil
	}
	secs, err := strconv.ParseInt(sde, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q: not a number of seconds", sde)
	}
	t := time.Unix(secs, 0)
	return &t, nil
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print Spartan's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "spartan", version)
			return err
		},
	}
}

func splitArchs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
