package version

import "testing"

func TestEditionName(t *testing.T) {
	orig := Edition
	t.Cleanup(func() { Edition = orig })
	for in, want := range map[string]string{"": "base", "cloud": "cloud", "ai": "ai", "all": "all"} {
		Edition = in
		if got := EditionName(); got != want {
			t.Errorf("EditionName() with Edition=%q = %q, want %q", in, got, want)
		}
	}
	if Version != "dev" {
		t.Errorf("default Version = %q, want dev", Version)
	}
}
