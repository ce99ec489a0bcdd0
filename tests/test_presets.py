"""Settings snapshots and presets: validation, TOML save → load round trip, rename, delete, built-ins,
malformed files, the config directory, and --preset on the command line."""
from dataclasses import FrozenInstanceError, replace

import pytest

from clips import frame_image, make_clip
from livematte.errors import SettingsError
from livematte.media import write_image
from livematte.presets import (BUILTIN_PRESETS, CONFIG_ENV, PresetStore, Settings, config_dir, preset_from_toml,
                               preset_to_toml, tomllib)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "config"))
    return PresetStore()


def _custom(tmp_path) -> Settings:
    image = tmp_path / "room.png"
    write_image(image, frame_image(0, 32, 24))
    return Settings(background="image", image=str(image), colour="#123456", blur=33, smoothing="ema",
                    smoothing_strength=0.35, feather=3, shrink=2, threshold=0.4, quality="fast", mirror=True)


def test_preset_settings_are_an_immutable_validated_snapshot():
    s = Settings()
    with pytest.raises(FrozenInstanceError):
        s.blur = 3
    assert replace(s, blur=40).blur == 40 and s.blur == 12
    bad = [dict(blur=0), dict(background="plaid"), dict(colour="not-a-colour"), dict(feather=21), dict(shrink=-1),
           dict(threshold=0.01), dict(quality="ultra"), dict(smoothing="wobble"), dict(smoothing_strength=0.99),
           dict(mirror="yes"), dict(feather=2.5), dict(background="image"), dict(background="video", video="a.png")]
    for changes in bad:
        with pytest.raises(SettingsError):
            Settings(**changes)


def test_preset_settings_from_a_background_spec(tmp_path):
    s = Settings()
    assert s.with_background("green").background == "colour" and s.with_background("green").colour == "green"
    assert s.with_background("blur:30").blur == 30
    assert s.with_background("transparent").background_spec() == "transparent"
    assert s.with_background("none").background == "none"
    clip = make_clip(tmp_path / "bg.mp4", frames=3)
    video = s.with_background(str(clip))
    assert video.background == "video" and video.background_spec() == str(clip.resolve())
    image = tmp_path / "bg.png"
    write_image(image, frame_image(0, 16, 16))
    assert s.with_background(str(image)).background == "image"
    for bad in ("blur:0", "no-such-file.png"):
        with pytest.raises(SettingsError):
            s.with_background(bad)


def test_preset_save_load_round_trip(store, tmp_path):
    settings = _custom(tmp_path)
    name = 'Évening "stream" \\ 🎥'  # quotes, backslash, non-ASCII: all survive TOML
    saved = store.save(name, settings)
    assert saved.path.parent == tmp_path / "config" / "presets" and saved.path.suffix == ".toml"
    tomllib.loads(saved.path.read_text(encoding="utf-8"))  # a valid TOML file a user can edit
    loaded = PresetStore().find(name.upper())  # names match in any case
    assert loaded.name == name and loaded.settings == settings and not loaded.builtin
    assert preset_from_toml(preset_to_toml(name, settings)) == (name, settings)


def test_preset_save_replaces_rename_and_delete(store, tmp_path):
    store.save("Mine", Settings(blur=20))
    store.save("mine", Settings(blur=30))  # same name, any case: replaced, not duplicated
    assert [p.settings.blur for p in store.load() if p.name.lower() == "mine"] == [30]
    renamed = store.rename("Mine", "Yours")
    assert renamed.path.name == "yours.toml" and not (tmp_path / "config" / "presets" / "mine.toml").exists()
    assert store.get("Yours").blur == 30
    store.save("Other", Settings())
    with pytest.raises(SettingsError, match="already exists"):
        store.rename("Yours", "other")
    store.delete("Yours")
    assert "Yours" not in store.names() and "Other" in store.names()
    with pytest.raises(SettingsError, match="no user preset"):
        store.delete("Yours")


def test_preset_builtins_are_listed_and_protected(store):
    names = store.names()
    assert names[:len(BUILTIN_PRESETS)] == [p.name for p in BUILTIN_PRESETS]
    assert {"Office blur", "Green screen", "Transparent for OBS"} <= set(names)
    assert store.get("office blur").background == "blur"
    assert store.get("Transparent for OBS").background == "transparent"
    with pytest.raises(SettingsError, match="built-in"):
        store.save("Office blur", Settings())
    with pytest.raises(SettingsError, match="built-in"):
        store.rename("Green screen", "Mine")
    with pytest.raises(SettingsError, match="built-in"):
        store.delete("Green screen")


def test_preset_malformed_files_are_reported_and_the_rest_still_load(store, tmp_path):
    store.save("Good", Settings(blur=44))
    folder = tmp_path / "config" / "presets"
    (folder / "broken.toml").write_text('name = "Broken"\nblur = [unclosed\n')
    (folder / "badvalue.toml").write_text('name = "Bad value"\nfeather = 500\n')
    (folder / "unknown.toml").write_text('name = "Unknown"\nsparkle = true\n')
    (folder / "noname.toml").write_text('blur = 3\n')
    (folder / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    presets = store.load()
    assert [p.name for p in presets if not p.builtin] == ["Good"] and store.get("Good").blur == 44
    problems = "\n".join(store.problems)
    assert len(store.problems) == 5
    for text in ("broken.toml is not valid TOML", "feather must be 0..20", "unknown setting(s) sparkle",
                 "no name", "binary.toml cannot be read"):
        assert text in problems
    with pytest.raises(SettingsError, match="broken.toml is not valid TOML"):
        store.find("broken")  # asking for a malformed preset says why it is missing


def test_preset_names_are_checked(store):
    for bad in ("", "   ", "a\nb", "x" * 61):
        with pytest.raises(SettingsError):
            store.save(bad, Settings())


def test_preset_config_dir_follows_the_environment_or_platformdirs(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "x"))
    assert config_dir() == tmp_path / "x"
    monkeypatch.delenv(CONFIG_ENV)
    assert str(config_dir()) == platformdirs.user_config_dir("livematte")


def test_preset_cannot_be_saved_into_an_unwritable_place(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match="cannot save preset"):
        PresetStore(blocker / "presets").save("Mine", Settings())


TINY = ["--model", "shm-tiny", "--weights", "none", "--tnet-size", "64", "--mnet-size", "64"]


def test_preset_used_from_the_cli_with_overrides(store, tmp_path, capsys):
    from livematte.cli import main

    clip = make_clip(tmp_path / "cam.mp4", frames=4, rate=__import__("fractions").Fraction(30))
    store.save("Purple", Settings(background="colour", colour="#800080", feather=2))
    assert main(["live", "--camera", str(clip), "--preset", "purple", "--frames", "2", *TINY]) == 0
    assert "background #800080" in capsys.readouterr().err
    assert main(["live", "--camera", str(clip), "--preset", "purple", "-b", "blur:7", "--frames", "2", *TINY]) == 0
    assert "background blur:7" in capsys.readouterr().err  # an option given overrides the preset
    assert main(["live", "--list-presets"]) == 0
    out = capsys.readouterr().out
    assert "Purple" in out and "Office blur  (built-in)" in out and str(tmp_path / "config") in out


def test_preset_malformed_file_from_the_cli_warns_or_fails_clearly(store, tmp_path, capsys):
    from livematte.cli import main

    clip = make_clip(tmp_path / "cam.mp4", frames=4, rate=__import__("fractions").Fraction(30))
    folder = tmp_path / "config" / "presets"
    folder.mkdir(parents=True)
    (folder / "broken.toml").write_text("name = ")
    assert main(["live", "--camera", str(clip), "--preset", "Green screen", "--frames", "2", *TINY]) == 0
    assert "warning: preset file" in capsys.readouterr().err  # the others still load
    assert main(["live", "--camera", str(clip), "--preset", "broken", "--frames", "2", *TINY]) == 2
    err = capsys.readouterr().err
    assert "livematte: error: preset file" in err and "broken.toml is not valid TOML" in err
    assert "Traceback" not in err
