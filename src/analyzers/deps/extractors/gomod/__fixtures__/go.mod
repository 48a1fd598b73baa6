module github.com/example/gate

go 1.21

toolchain go1.21.5

require (
	github.com/gin-gonic/gin v1.9.1
	golang.org/x/net v0.0.0-20210226172049-e18ecbb05110
	github.com/docker/docker v20.10.7+incompatible
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/bytedance/sonic v1.9.1 // indirect
	golang.org/x/text v0.3.3 // indirect
	github.com/example/shared v0.0.0-00010101000000-000000000000 // indirect
	github.com/pkg/errors v0.9.1 // indirect; kept for the old API
)

require github.com/sirupsen/logrus v1.9.3

require "github.com/quoted/mod" v1.0.0 // a comment, not indirect

exclude golang.org/x/text v0.3.2

replace github.com/example/shared => ../shared

replace (
	golang.org/x/text v0.3.3 => golang.org/x/text v0.3.8
	github.com/sirupsen/logrus => github.com/example/logrus-fork v1.9.4-fixed
	github.com/pkg/errors v0.8.0 => github.com/pkg/errors v0.9.0
)

retract (
	v1.0.0 // published by mistake
	[v1.1.0, v1.2.0]
)

godebug default=go1.21
