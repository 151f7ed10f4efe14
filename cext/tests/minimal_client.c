/*
 * The smallest JACK client that reads its inputs: the yardstick for how many
 * system calls a process thread needs per cycle (JACK's own, and no more).
 *
 * usage: minimal_client SERVER SECONDS SOURCE_PORT...
 * Connects one input to each source port, runs for SECONDS and prints the
 * number of process cycles it ran.
 */
#include <jack/jack.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_CHANNELS 256

static jack_port_t *ports[MAX_CHANNELS];
static int channels;
static unsigned long cycles;
static volatile float sink;

static int process(jack_nframes_t nframes, void *arg)
{
    (void)arg;
    for (int ch = 0; ch < channels; ch++) {
        const float *in = jack_port_get_buffer(ports[ch], nframes);
        sink = in[nframes - 1];
    }
    cycles++;
    return 0;
}

int main(int argc, char **argv)
{
    channels = argc - 3;
    if (channels < 1 || channels > MAX_CHANNELS) {
        fprintf(stderr, "usage: %s SERVER SECONDS SOURCE_PORT...\n", argv[0]);
        return 2;
    }
    jack_status_t status;
    jack_client_t *client = jack_client_open("minimal", JackNoStartServer | JackServerName,
                                             &status, argv[1]);
    if (!client)
        return 1;
    char name[32];
    for (int ch = 0; ch < channels; ch++) {
        snprintf(name, sizeof name, "in_%d", ch + 1);
        ports[ch] = jack_port_register(client, name, JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    }
    jack_set_process_callback(client, process, NULL);
    if (jack_activate(client))
        return 1;
    for (int ch = 0; ch < channels; ch++)
        if (jack_connect(client, argv[3 + ch], jack_port_name(ports[ch])))
            return 1;
    sleep((unsigned)atoi(argv[2]));
    jack_deactivate(client);
    printf("%lu\n", cycles);
    jack_client_close(client);
    return 0;
}
