# Turns a text file into a C source defining `const char <NAME>[]`, NUL-terminated, so the
# Varlink interface description is served from the very file in docs/ (no copy to drift).
# Usage: cmake -DINPUT=... -DOUTPUT=... -DNAME=... -P embed.cmake
file(READ ${INPUT} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUTPUT} "/* Generated from ${INPUT}; do not edit. */\nextern const char ${NAME}[];\nconst char ${NAME}[] = {${body}0x00};\n")
