package os

import (
	"os/user"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/project-starkite/starkite/libkite"
)

// newUserStruct builds the global user (type "struct"): name, id, gid and
// home are the very builtins username, userid, groupid and home.
func newUserStruct(m starlark.StringDict) *starlarkstruct.Struct {
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"name": m["username"],
		"id":   m["userid"],
		"gid":  m["groupid"],
		"home": m["home"],
	})
}

// currentUser answers one field of the account-database entry of the
// current user; a failed lookup raises "<fn>: <reason>".
func currentUser(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, field func(*user.User) string) (starlark.Value, error) {
	if err := libkite.NoArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	u, err := user.Current()
	if err != nil {
		return nil, errorf(b, "%v", err)
	}
	return starlark.String(field(u)), nil
}

// username() → login name of the current user.
func username(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return currentUser(b, args, kwargs, func(u *user.User) string { return u.Username })
}

// userid() → numeric uid as a string.
func userid(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return currentUser(b, args, kwargs, func(u *user.User) string { return u.Uid })
}

// groupid() → numeric primary gid as a string.
func groupid(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return currentUser(b, args, kwargs, func(u *user.User) string { return u.Gid })
}

// home() → home directory from the account database (not $HOME).
func home(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return currentUser(b, args, kwargs, func(u *user.User) string { return u.HomeDir })
}
