# What `cmake --install` puts beside the binaries (which the top CMakeLists.txt installs into
# ${CMAKE_INSTALL_BINDIR}), all relative to the install prefix, so any --prefix and DESTDIR work:
#
#   share/man/man1/minisupctl.1, man5/minisup.unit.5, man8/minisupd.8     the manuals
#   share/bash-completion/completions/minisupctl                         bash completion
#   share/doc/minisup/minisupd.service                                   example unit
#
# The example unit goes to the documentation directory, not lib/systemd/system: it is an
# example (its -d /etc/minisup/units is a choice for the administrator to make), and installing
# it there would let `systemctl` pick up a second supervisor on any machine that merely
# installed minisup. Its ExecStart= is rewritten at install time to name the installed
# minisupd (<prefix>/bin/minisupd), so it is right under any prefix. See docs/install.md.
include(GNUInstallDirs)

set(_minisup_root ${CMAKE_CURRENT_LIST_DIR}/..)

install(FILES ${_minisup_root}/docs/man/minisupctl.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${_minisup_root}/docs/man/minisup.unit.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
install(FILES ${_minisup_root}/docs/man/minisupd.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

install(FILES ${_minisup_root}/contrib/bash-completion/minisupctl
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# The example unit, with the install-time prefix: CMAKE_INSTALL_PREFIX below is read when
# cmake_install.cmake runs, so `cmake --install build --prefix /opt/x` gives /opt/x/bin/minisupd.
# The edited copy is written under a name of its own (two installs may run at once) and then
# installed with file(INSTALL), which honours DESTDIR and records it in install_manifest.txt.
set(_minisup_unit_dir ${CMAKE_INSTALL_DATADIR}/doc/minisup)
install(CODE "
set(_minisup_unit_src \"${_minisup_root}/contrib/systemd/minisupd.service\")
set(_minisup_unit_tmp \"${CMAKE_BINARY_DIR}/CMakeFiles/minisupd.service.install\")
set(_minisup_bindir \"${CMAKE_INSTALL_BINDIR}\")
set(_minisup_unit_dir \"${_minisup_unit_dir}\")
")
install(CODE [[
if(NOT IS_ABSOLUTE "${_minisup_bindir}")
    set(_minisup_bindir "${CMAKE_INSTALL_PREFIX}/${_minisup_bindir}")
endif()
if(NOT IS_ABSOLUTE "${_minisup_unit_dir}")
    set(_minisup_unit_dir "${CMAKE_INSTALL_PREFIX}/${_minisup_unit_dir}")
endif()
file(READ "${_minisup_unit_src}" _minisup_unit)
string(REPLACE "/usr/local/bin/minisupd" "${_minisup_bindir}/minisupd" _minisup_unit
       "${_minisup_unit}")
string(RANDOM LENGTH 12 _minisup_rand)
set(_minisup_tmp_dir "${_minisup_unit_tmp}.${_minisup_rand}")
file(WRITE "${_minisup_tmp_dir}/minisupd.service" "${_minisup_unit}")
file(INSTALL DESTINATION "${_minisup_unit_dir}" TYPE FILE
     FILES "${_minisup_tmp_dir}/minisupd.service")
file(REMOVE_RECURSE "${_minisup_tmp_dir}")
]])
