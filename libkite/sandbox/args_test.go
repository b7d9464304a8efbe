package sandbox

import (
	"reflect"
	"testing"
)

func TestIsSelector(t *testing.T) {
	tests := []struct {
		word string
		want bool
	}{
		{"--sandbox", true},
		{"-sandbox", true},
		{"--sandbox=build", true},
		{"--sandbox=", true},
		{"--sandbox-opaque", true},
		{"--sandbox-net-access", true},
		{"-sandbox-host", true},
		{"--sandbox-host=true", true},
		{"--sandbox-opaque=false", true},
		{"--sandboxed", false},
		{"--sandbox-other", false},
		{"---sandbox", false},
		{"sandbox", false},
		{"--sand", false},
		{"-", false},
		{"--", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := IsSelector(tt.word); got != tt.want {
			t.Errorf("IsSelector(%q) = %v, want %v", tt.word, got, tt.want)
		}
	}
}

func TestStripSelectors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"bare --sandbox keeps the script path", []string{"run", "--sandbox", "./s.star", "a"}, []string{"run", "./s.star", "a"}},
		{"value forms and aliases removed",
			[]string{"--sandbox=x", "run", "-sandbox", "--sandbox-opaque", "s.star", "--sandbox-host=true", "--sandbox-net-access"},
			[]string{"run", "s.star"}},
		{"similar flags kept", []string{"run", "--sandboxed", "--sandbox-other", "s.star"}, []string{"run", "--sandboxed", "--sandbox-other", "s.star"}},
		{"words after -- untouched", []string{"run", "--sandbox", "s.star", "--", "--sandbox", "--sandbox=x"}, []string{"run", "s.star", "--", "--sandbox", "--sandbox=x"}},
		{"nothing to strip", []string{"exec", "print(1)"}, []string{"exec", "print(1)"}},
		{"empty", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripSelectors(tt.args); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("StripSelectors(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}
