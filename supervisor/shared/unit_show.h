/* The properties of a parsed unit as `systemctl show` prints them: systemd's property names, in
 * systemd's order (the unit type's own interface, then exec and kill settings, then the Unit
 * interface), with systemd's value formats. Shared by minisupd and minisupctl. Pure: no I/O, no
 * logging, nothing kept between calls. */
#ifndef MINISUP_UNIT_SHOW_H
#define MINISUP_UNIT_SHOW_H

struct unit_config;

enum unit_show_flags {
    /* Also pass properties whose value is empty, as `systemctl show --all` (and `-p`) print
     * them. Without it they are left out, as plain `systemctl show` does. Properties with one
     * value per entry (ExecStart=, Listen=, EnvironmentFiles=) are never passed when they have
     * no entry, in both modes, as in systemctl. */
    UNIT_SHOW_EMPTY = 1 << 0,
};

/* Receives one property. `name` and `value` are valid only during the call. A negative return
 * stops the walk; unit_show_properties() then returns that value. */
typedef int (*unit_show_cb)(const char *name, const char *value, void *userdata);

/* Calls cb(name, value, userdata) for each property of `c`, in a stable order. A property with
 * several entries (one per command in ExecStart=, one per socket in Listen=, ...) is passed once
 * per entry under the same name, as systemctl prints one line per entry. Returns 0, -ENOMEM, or
 * the first negative value cb returned. Never logs. */
int unit_show_properties(const struct unit_config *c, unsigned flags, unit_show_cb cb,
                         void *userdata);

/* The property a unit-file key is shown under: ("Service", "TimeoutStopSec") ->
 * "TimeoutStopUSec", ("Service", "ExecStart") -> "ExecStart", ("Socket", "ListenStream") ->
 * "Listen". A key that sets two properties gives the first ("TimeoutSec" -> "TimeoutStartUSec",
 * which TimeoutStopUSec follows). NULL for keys minisup does not act on (those that load with an
 * "Unsupported key" warning), unknown keys, and keys outside their section. */
const char *unit_show_property_for_key(const char *section, const char *key);

#endif
