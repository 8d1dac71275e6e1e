// Command kubectl is upstream kubectl, built from the k8s.io/kubectl module at
// the version pinned in go.mod. It mirrors k8s.io/kubernetes/cmd/kubectl so the
// tests run the real binary, installed by the project itself.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Client auth plugins (exec, oidc), as in upstream kubectl.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		util.CheckErr(err)
	}
}
