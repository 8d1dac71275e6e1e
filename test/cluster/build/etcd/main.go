// Command etcd is upstream etcd, built from go.etcd.io/etcd/server/v3 at the
// version pinned in go.mod. etcd's own go.mod replaces its sibling modules with
// ../ paths, so it cannot be `go install`ed; this wrapper calls its main.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
