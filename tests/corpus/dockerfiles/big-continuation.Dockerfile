FROM debian:12
RUN set -eux; \
    echo line0; \
# c

    echo line1; \
    echo line2; \
    echo line3; \
# c
    echo line4; \
    echo line5; \

    echo line6; \
# c
    echo line7; \
    echo line8; \
    echo line9; \
# c
    echo line10; \

    echo line11; \
    echo line12; \
# c
    echo line13; \
    echo line14; \
    echo line15; \
# c

    echo line16; \
    echo line17; \
    echo line18; \
# c
    echo line19; \
    true
