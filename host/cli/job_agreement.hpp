#pragma once
// The ranks of a job agree before they work together. Started with different settings they would not train one
// network: another --sizes or --precision exchanges gradients of another length (the heap is corrupted), another
// --epochs or --batch leaves ranks waiting for exchanges the others never make, another --eta or --seed trains a
// silently different model. So once MPI has started, each rank sends either its fingerprint (the command, the
// version, every setting that must agree, its data's identity and shape, the checkpoint it resumes) or, when it
// refused to run, its one-line reason; every rank receives all of them and decides alike. The job goes on only
// when every fingerprint is rank 0's; otherwise every rank stops with the same one line, which rank 0 (the one that
// speaks, one_voice.hpp) prints: the first refusal with its ranks, or the first entry that differs with each value
// and the ranks that hold it.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sigmanet/collective.hpp"
#include "sigmanet/formats/checkpoint.hpp"
#include "sigmanet/formats/data_source.hpp"

namespace sigmanet::cli {

// What must agree, in a fixed order: (what it is, as a message names it, "--sizes"; its value as text).
using Fingerprint = std::vector<std::pair<std::string, std::string>>;

// "50000 + 10000 + 10000 records of 28x28, CRC32 0a1b2c3d": the training, validation and test sets, told apart by the
// CRC32 of every pixel and label.
std::string data_identity(const LabelledData& data);

// "epoch 3, sample 1200, CRC32 0a1b2c3d": the checkpoint a run resumes, told apart by its parameters and trainer
// state.
std::string checkpoint_identity(const Checkpoint& ck);

// Sends this rank's fingerprint and receives every rank's. Returns when they all agree with rank 0's; otherwise
// throws InputError, alike on every rank: "the ranks disagree on --sizes: 784,30,10 on rank 0, 784,20,10 on rank
// 1; ...", or a rank's refusal.
void agree_with_job(Collective& job, const Fingerprint& mine);

// For a rank that refuses to run before its job agreed: sends its reason (the line it would print, without
// "sigmanet: ") and returns the line the job reports, alike on every rank: rank 0's own refusal when it refused,
// else "rank N: <reason>" (or "ranks 1, 3: ...") for the first reason given.
std::string refuse_with_job(Collective& job, const std::string& reason);

// Whether this process has been through its job's agreement (either way). After it, an error is either every
// rank's alike (they decide together) or a fault.
bool job_agreed();

}  // namespace sigmanet::cli
