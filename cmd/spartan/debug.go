package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/spartan-images/spartan/internal/debug"
)

func newDebugCmd(_ *globals) *cobra.Command {
	var o debug.Options
	cmd := &cobra.Command{
		Use:   "debug CONTAINER [-- COMMAND…]",
		Short: "Start a toolbox in a running container's PID, network and IPC namespaces",
		Long: `Debug starts Spartan's toolbox image (busybox, strace, curl, procps, iproute2, tcpdump,
lsof) beside a running container that has no shell: it shares the container's PID, network
and IPC namespaces, so ps lists the container's processes, curl reaches its ports on
localhost, and its root filesystem is at /target. It runs as the container's user, or as
root with SYS_PTRACE, NET_ADMIN and NET_RAW with --root (strace and tcpdump need it). With no
COMMAND it opens an interactive shell; a COMMAND runs without one and its exit status is
debug's. The toolbox container is removed when it exits; the target is not touched.

CONTAINER is a podman or docker container (name or id; the engine that knows it is used, or
--engine), or pod/NAME (or --kube NAME) for a Kubernetes pod, debugged with kubectl debug and
an ephemeral container targeting --container (default: the pod's first); without kubectl the
command is printed. The toolbox is built from images/toolbox:
  spartan build images/toolbox --archive toolbox.tar && podman load -i toolbox.tar
For a cluster, push it and give --image REGISTRY/spartan/toolbox:TAG.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Target = args[0]
			if dash := cmd.ArgsLenAtDash(); dash > 1 || dash < 0 && len(args) > 1 {
				names := args
				if dash > 1 {
					names = args[:dash]
				}
				return fmt.Errorf("debug takes one container (got %q): put the command after --, as in spartan debug %s -- ps -ef", names, args[0])
			} else if dash == 1 {
				o.Command = args[1:]
			}
			o.Stdin, o.Stdout, o.Stderr = os.Stdin, cmd.OutOrStdout(), cmd.ErrOrStderr()
			o.TTY = term.IsTerminal(int(os.Stdin.Fd()))
			return debug.Run(cmd.Context(), debug.Exec{}, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Image, "image", debug.DefaultImage, "toolbox image (podman finds a loaded archive as localhost/"+debug.DefaultImage+")")
	f.BoolVar(&o.Root, "root", false, "run the toolbox as root with SYS_PTRACE, NET_ADMIN and NET_RAW (Kubernetes: --profile=sysadmin)")
	f.StringVar(&o.Engine, "engine", "", "podman or docker (default: the one that knows the container)")
	f.StringVar(&o.Runtime, "runtime", "", "OCI runtime for the toolbox (podman --runtime, docker run --runtime), e.g. runc")
	f.BoolVar(&o.Kube, "kube", false, "CONTAINER is a Kubernetes pod (same as pod/NAME)")
	f.StringVarP(&o.Container, "container", "c", "", "the pod's container to target (default: its first)")
	f.StringVarP(&o.Namespace, "namespace", "n", "", "the pod's namespace (default: kubectl's current one)")
	f.BoolVar(&o.DryRun, "dry-run", false, "print the podman, docker or kubectl command instead of running it")
	return cmd
}
