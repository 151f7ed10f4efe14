#include "fakejack.h"

#include <string.h>

JackProcessCallback fakejack_process;
void *fakejack_arg;
jack_nframes_t fakejack_frame_time;
JackFreewheelCallback fakejack_freewheel;
void *fakejack_freewheel_arg;
jack_transport_state_t fakejack_transport_state;
jack_nframes_t fakejack_transport_frame;

void *jack_port_get_buffer(jack_port_t *port, jack_nframes_t nframes)
{
    (void)nframes;
    return *(float **)port;
}

jack_nframes_t jack_last_frame_time(const jack_client_t *client)
{
    (void)client;
    return fakejack_frame_time;
}

int jack_set_process_callback(jack_client_t *client, JackProcessCallback callback, void *arg)
{
    (void)client;
    fakejack_process = callback;
    fakejack_arg = arg;
    return 0;
}

int jack_set_freewheel_callback(jack_client_t *client, JackFreewheelCallback callback, void *arg)
{
    (void)client;
    fakejack_freewheel = callback;
    fakejack_freewheel_arg = arg;
    return 0;
}

jack_transport_state_t jack_transport_query(const jack_client_t *client, jack_position_t *pos)
{
    (void)client;
    if (pos) {
        memset(pos, 0, sizeof *pos);
        pos->frame = fakejack_transport_frame;
    }
    return fakejack_transport_state;
}
