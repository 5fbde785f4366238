module runbox.dev/test/cluster/images/pause

go 1.24
